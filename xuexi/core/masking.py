"""Masking of personal data for display (SECURITY S11)."""


def mask_phone(phone: str) -> str:
    """``13812341234`` → ``138****1234``; anything shorter is masked whole."""
    if len(phone) < 8:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_name(name: str) -> str:
    """``张三丰`` → ``张**``: the surname stays, the given name is hidden."""
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)
