"""Who may use each route. Every view declares its rule; a test fails if one does not."""

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from .models import Role

PCN_ROLES = (Role.CLINICAL_DIRECTOR, Role.PCN_MEMBER)
ALL_ROLES = tuple(Role)


def public(view: Callable) -> Callable:
    """Open to anyone, signed in or not (sign-in page, assets, health check)."""
    view.access_rule = "public"
    return view


def roles(*allowed: Role) -> Callable[[Callable], Callable]:
    """Signed in with one of these roles; anyone else signed in gets 403, anyone signed out is sent to sign in."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        guarded = login_required(wrapped)
        guarded.access_rule = tuple(allowed)
        return guarded

    return decorator
