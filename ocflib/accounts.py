"""Users and groups, as the agents see them: one seam (Context.accounts) with the
system's databases behind it and a strict fake in tests/fakes.py.

A name that does not exist is None, never an exception: validation reports it.
"""

from __future__ import annotations

__all__ = ["Account", "SystemAccounts"]


class Account:
    """A user: name, uid and primary gid (its supplementary groups are a separate
    look-up, Accounts.groups: scanning the group database is not for every monitor)."""

    __slots__ = ("name", "uid", "gid")

    def __init__(self, name: str, uid: int, gid: int) -> None:
        self.name = name
        self.uid = uid
        self.gid = gid

    def __repr__(self) -> str:
        return f"Account({self.name!r}, uid={self.uid}, gid={self.gid})"


class SystemAccounts:
    """The node's passwd and group databases (NSS)."""

    def user(self, name: str) -> Account | None:
        import pwd

        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            return None
        return Account(entry.pw_name, entry.pw_uid, entry.pw_gid)

    def groups(self, name: str) -> frozenset[int]:
        """The gids of the supplementary groups that list user name."""
        import grp

        return frozenset(g.gr_gid for g in grp.getgrall() if name in g.gr_mem)

    def group(self, name: str) -> int | None:
        import grp

        try:
            return grp.getgrnam(name).gr_gid
        except KeyError:
            return None
