"""Security and audit events as structured log lines, through the standard logging module.

One JSON object a line on the `app.security` logger: the event, its outcome, the user and organisation (ids
only), the client address and the path. Never a password, a token or anything typed into a form.
"""

import ipaddress
import json
import logging

from flask import has_request_context, request
from flask_login import current_user

logger = logging.getLogger("app.security")


def client_address() -> str:
    """The client's address as the app sees it (ProxyFix puts the real one here when TRUSTED_PROXIES is set)."""
    return (request.remote_addr or "")[:45] if has_request_context() else ""


def address_group() -> str:
    """The client address for counting: an IPv4 address, or the /64 network of an IPv6 one (one household or
    practice usually has a whole /64, so counting single IPv6 addresses would count nothing)."""
    address = client_address()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def event(name: str, outcome: str, *, user=None, level: int = logging.INFO, **fields) -> None:
    """Log one security event. `user` defaults to whoever is signed in (unless a user_id is given, as while the
    user is being loaded); extra fields must hold no typed text."""
    record: dict = {"event": name, "outcome": outcome}
    signed_in = has_request_context() and current_user and current_user.is_authenticated
    if user is None and "user_id" not in fields and signed_in:
        user = current_user
    if user is not None:
        record["user_id"] = user.id
        record["organisation_id"] = user.organisation_id
    if has_request_context():
        record["address"] = client_address()
        record["method"] = request.method
        record["path"] = request.path[:200]
    record.update(fields)
    logger.log(level, json.dumps(record, default=str, ensure_ascii=True))
