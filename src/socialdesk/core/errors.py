"""Errors that the web layer and the CLI turn into clear messages."""


class SocialdeskError(Exception):
    """Base of every error the product raises on purpose."""


class NotFound(SocialdeskError):
    pass


class InvalidInput(SocialdeskError):
    pass


class Conflict(SocialdeskError):
    pass


class PermissionDenied(SocialdeskError):
    pass
