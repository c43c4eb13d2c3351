"""The board's HTTP side: joining, the instructor's page and the JSON state."""

import json
import secrets
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from websocket_app.protocol import MAX_FRAME_CHARS, BadFrame

from .access import current_workshop, group_name, is_instructor
from .models import Attendee
from .rules import FAILED_JOINS_PER_MINUTE, MAX_ATTENDEES, clean_name, name_key, normalise_code, same_secret, token_hash
from .state import board_state

FORBIDDEN_DETAIL = "wrong or missing instructor key: use the URL that `python -m workbook board` printed"


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status)


def _private(response):
    """Pages and JSON carrying the key or the class's progress: never cached, never sent on as Referer."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def board_page(request):
    if not is_instructor(request.GET.get("key")):
        response = render(request, "workshop/forbidden.html", status=403)
    else:
        response = render(request, "workshop/board.html", {"code": current_workshop().code})
    # The page's script and styles are inline; nothing may load from elsewhere or frame it abroad.
    response["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "connect-src 'self'; frame-ancestors 'self' http://localhost:* http://127.0.0.1:*"
    )
    return _private(response)


@require_GET
def state_api(request):
    if not is_instructor(request.GET.get("key")):
        return _private(_error(403, "forbidden", FORBIDDEN_DETAIL))
    state = board_state(current_workshop())
    return _private(
        JsonResponse(
            {"attendees": state["attendees"], "exercise_ids": state["exercise_ids"], "workshop": state["workshop"]}
        )
    )


@require_GET
def health(request):
    return JsonResponse({"ok": True})


_failed_joins: dict = {}  # client address -> times of its recent wrong codes


def _too_many_failures(address: str) -> bool:
    """Guessing codes is slow: FAILED_JOINS_PER_MINUTE wrong codes, then wait. A class behind
    one address (a NAT, a JupyterHub) joining with the right code is never held up."""
    now = time.monotonic()
    recent = [moment for moment in _failed_joins.pop(address, []) if now - moment < 60]
    if recent:  # addresses without recent failures are forgotten: the table cannot grow without end
        _failed_joins[address] = recent
    return len(recent) >= FAILED_JOINS_PER_MINUTE


@csrf_exempt  # no cookies are involved: the code in the body is the credential
@require_POST
def join_api(request):
    """``{"code": "KITE-4821", "name": "Ada"}`` → 201 ``{"token": ..., "name": ..., "workshop": ...}``."""
    address = request.META.get("REMOTE_ADDR", "")
    if _too_many_failures(address):
        return _error(429, "rate_limited", "too many wrong codes from your address: wait a minute")
    if len(request.body) > MAX_FRAME_CHARS:
        return _error(400, "too_large", f"the request is limited to {MAX_FRAME_CHARS} bytes")
    try:
        data = json.loads(request.body)
        code, name = data["code"], data["name"]
    except (ValueError, RecursionError, TypeError, KeyError):
        return _error(400, "invalid_json", 'send JSON like {"code": "KITE-4821", "name": "Ada"}')
    workshop = current_workshop()
    if not same_secret(normalise_code(code) if isinstance(code, str) else None, workshop.code):
        _failed_joins.setdefault(address, []).append(time.monotonic())
        return _error(403, "wrong_code", "that is not this workshop's code: check it with your instructor")
    try:
        name = clean_name(name)
    except BadFrame as bad:
        return _error(400, bad.code, bad.detail)
    if Attendee.objects.filter(workshop=workshop).count() >= MAX_ATTENDEES:
        return _error(403, "workshop_full", f"this workshop has {MAX_ATTENDEES} attendees already")
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            Attendee.objects.create(workshop=workshop, name=name, name_key=name_key(name), token_hash=token_hash(token))
    except IntegrityError:
        return _error(
            409, "name_taken", f"someone already joined as {name!r}: choose another name (add an initial, say)"
        )
    async_to_sync(get_channel_layer().group_send)(group_name(workshop), {"type": "board.joined", "name": name})
    return _private(JsonResponse({"token": token, "name": name, "workshop": workshop.code}, status=201))
