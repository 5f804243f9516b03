"""Users and groups, as the agents see them: one seam (Context.accounts) with the
system's databases behind it and a strict fake in ocflib.testing.

A name that does not exist is None, never an exception: validation reports it.
"""

from __future__ import annotations

__all__ = ["Account", "SystemAccounts"]


class Account:
    """A user: name, uid, primary gid, and the gids of its supplementary groups."""

    __slots__ = ("name", "uid", "gid", "groups")

    def __init__(self, name: str, uid: int, gid: int, groups: frozenset[int] = frozenset()) -> None:
        self.name = name
        self.uid = uid
        self.gid = gid
        self.groups = groups

    def __repr__(self) -> str:
        return f"Account({self.name!r}, uid={self.uid}, gid={self.gid})"


class SystemAccounts:
    """The node's passwd and group databases (NSS)."""

    def user(self, name: str) -> Account | None:
        import grp
        import pwd

        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            return None
        groups = frozenset(g.gr_gid for g in grp.getgrall() if name in g.gr_mem)
        return Account(entry.pw_name, entry.pw_uid, entry.pw_gid, groups)

    def group(self, name: str) -> int | None:
        import grp

        try:
            return grp.getgrnam(name).gr_gid
        except KeyError:
            return None
