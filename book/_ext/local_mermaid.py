"""Mermaid diagrams rendered in the reader's browser by a local copy of mermaid.js.

A ```mermaid block becomes ``<pre class="mermaid">source</pre>``; pages that have one load
``mermaid.min.js`` (the classic build, not the ES module: module scripts do not load from a
file:// page) and ``mermaid-init.js``, which turns each block into an inline SVG.
"""

import html

from docutils import nodes
from docutils.parsers.rst import Directive


class mermaid(nodes.General, nodes.Element):
    """The diagram's source, kept as it was written."""


class MermaidDirective(Directive):
    has_content = True
    optional_arguments = 1  # a fence's info string may carry words after "mermaid"
    final_argument_whitespace = True

    def run(self):
        node = mermaid()
        node["code"] = "\n".join(self.content)
        return [node]


def visit_mermaid_html(translator, node):
    translator.body.append(f'<pre class="mermaid">{html.escape(node["code"])}</pre>\n')
    raise nodes.SkipNode


def skip(translator, node):
    raise nodes.SkipNode


def add_scripts(app, pagename, templatename, context, doctree):
    if doctree is not None and next(iter(doctree.findall(mermaid)), None) is not None:
        app.add_js_file("mermaid.min.js")
        app.add_js_file("mermaid-init.js")


def setup(app):
    app.add_node(
        mermaid,
        html=(visit_mermaid_html, None),
        latex=(skip, None),
        text=(skip, None),
        man=(skip, None),
        texinfo=(skip, None),
    )
    app.add_directive("mermaid", MermaidDirective)
    app.connect("html-page-context", add_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
