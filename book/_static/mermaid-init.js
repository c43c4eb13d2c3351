// Turn every <pre class="mermaid"> into an SVG diagram, with the local mermaid.min.js.
document.addEventListener("DOMContentLoaded", async () => {
  const dark = document.documentElement.dataset.theme === "dark";
  mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: dark ? "dark" : "default" });
  await mermaid.run({ querySelector: "pre.mermaid" });
  document.documentElement.dataset.mermaid = "rendered";  // tests wait for this
});
