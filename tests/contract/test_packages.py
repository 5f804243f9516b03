"""The packages, built as a packager builds them: `make dist` in a tree without git, then
`rpmbuild -ta` on the tarball; `make deb` with Debian's tooling. Contents, dependencies,
byte-code, manual pages, and rpmlint and lintian without findings."""

from __future__ import annotations

import glob
import os
import re
import stat
import subprocess
import sys

import pytest

from tests.conftest import AGENT_NAMES, ROOT, need

pytestmark = pytest.mark.slow

with open(os.path.join(ROOT, "ocflib", "__init__.py")) as _init:
    VERSION = re.search(r'__version__ = "([^"]+)"', _init.read()).group(1)  # type: ignore[union-attr]
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
# What both packages ship as documentation: the README, NEWS, the benchmarks, the
# security policy and every page of docs/ (flattened into the package's doc directory).
DOCS = sorted(
    ["README.md", "NEWS.md", "BENCHMARKS.md", "SECURITY.md"]
    + [n for n in os.listdir(os.path.join(ROOT, "docs")) if n.endswith(".md")]
)


def tree_modules() -> set[str]:
    """ocflib's modules in this tree (relative paths): what every package ships."""
    found: set[str] = set()
    for directory, dirs, names in os.walk(os.path.join(ROOT, "ocflib")):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        found.update(
            os.path.relpath(os.path.join(directory, n), ROOT) for n in names if n.endswith(".py")
        )
    return found


def shipped(files: object, sitelib: str) -> set[str]:
    """The ocflib modules among a package's files, relative to its site directory."""
    prefix = sitelib.rstrip("/") + "/"
    return {
        f[len(prefix) :]
        for f in files  # type: ignore[attr-defined]
        if f.startswith(prefix + "ocflib/") and f.endswith(".py")
    }


def test_the_wheel_ships_every_module_and_nothing_else(tarball: str, tmp_path: object) -> None:
    """The wheel (setup.cfg), the RPM and the .deb ship the same modules: each exactly
    ocflib's (the test doubles live in tests/, outside every package)."""
    import zipfile

    run("tar", "-xzf", tarball, "-C", str(tmp_path))
    tree = f"{tmp_path}/pyha-{VERSION}"
    out = f"{tmp_path}/wheel"
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        out,
        tree,
    )
    (wheel,) = glob.glob(f"{out}/pyha-{VERSION}-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n for n in names if n.endswith(".py")} == tree_modules()
    assert not [n for n in names if n.startswith("tests/")]


def make(*args: str, cwd: str = ROOT) -> str:
    result = subprocess.run(["make", "-C", cwd, *args], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def run(*argv: str) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The release tarball, made twice: from this tree, then again from the unpacked
    tarball, which has no .git (what a packager has)."""
    need("tar", "make")
    base = str(tmp_path_factory.mktemp("dist"))
    make("dist", f"DIST_DIR={base}/first")
    first = f"{base}/first/pyha-{VERSION}.tar.gz"
    run("tar", "-xzf", first, "-C", base)
    tree = f"{base}/pyha-{VERSION}"
    assert not os.path.exists(f"{tree}/.git")
    make("dist", f"DIST_DIR={base}/second", cwd=tree)
    second = f"{base}/second/pyha-{VERSION}.tar.gz"
    names = run("tar", "-tzf", second).split()
    assert names == run("tar", "-tzf", first).split()
    assert f"pyha-{VERSION}/packaging/rpm/pyha.spec" in names
    assert [n for n in names if n.endswith(".spec")] == [f"pyha-{VERSION}/packaging/rpm/pyha.spec"]
    assert f"pyha-{VERSION}/debian/control" in names
    assert not [n for n in names if "__pycache__" in n or "/.venv/" in n or "/build/" in n]
    return second


def test_spec_and_debian_changelog_carry_the_library_version() -> None:
    with open(os.path.join(ROOT, "packaging", "rpm", "pyha.spec")) as f:
        spec = f.read()
    assert re.search(rf"^Version:\s+{re.escape(VERSION)}$", spec, re.M)
    assert re.search(rf"^\* .* - {re.escape(VERSION)}-1$", spec, re.M), "%changelog is out of date"
    with open(os.path.join(ROOT, "debian", "changelog")) as f:
        assert f.readline().startswith(f"pyha ({VERSION}) ")


def test_rpmbuild_ta_builds_a_noarch_rpm_that_rpmlint_passes(
    tarball: str, tmp_path: object
) -> None:
    need("rpmbuild", "rpm", "rpmlint", "unshare", root=True)
    top = f"{tmp_path}/rpmbuild"
    make("rpm", f"RPMBUILD_DIR={top}", f"DIST_DIR={os.path.dirname(tarball)}")
    (package,) = glob.glob(f"{top}/RPMS/noarch/pyha-{VERSION}-1*.noarch.rpm")
    files = run("rpm", "-qlp", package).split()
    sitelib = f"/usr/lib/python{PY}/site-packages"  # Fedora's python3_sitelib
    for expected in (
        "/usr/lib/ocf/lib/pyha/ocf.py",
        *(f"/usr/lib/ocf/resource.d/pyha/{a}" for a in AGENT_NAMES),
        *(f"/usr/share/man/man7/ocf_pyha_{a}.7.gz" for a in AGENT_NAMES),
        "/usr/sbin/pyha",
        "/usr/share/man/man8/pyha.8.gz",
        f"{sitelib}/ocflib/agent.py",
        f"{sitelib}/ocflib/admin/check.py",
        f"{sitelib}/ocflib/__pycache__",
        f"{sitelib}/ocflib/agents/__pycache__",
    ):
        assert expected in files, expected
    # The documentation, as the .deb ships it (pyha(8) points to MIGRATING.md):
    # /usr/share/doc/pyha on RHEL, pyha-VERSION on the rpmbuild of this machine.
    docs = {
        m.group(1)
        for f in files
        if (m := re.fullmatch(r"/usr/share/doc/pyha(?:-[\d.]+)?/([^/]+)", f))
    }
    assert docs == set(DOCS), docs ^ set(DOCS)
    modules = [f for f in files if f.startswith(f"{sitelib}/ocflib") and f.endswith(".py")]
    tag = f"cpython-{PY.replace('.', '')}"
    for module in modules:
        head, name = os.path.split(module)
        assert f"{head}/__pycache__/{name[:-3]}.{tag}.pyc" in files, f"{module}: not byte-compiled"
    assert shipped(files, sitelib) == tree_modules()
    assert not [f for f in files if "/tests/" in f]
    requires = run("rpm", "-qp", "--requires", package).splitlines()
    assert f"python(abi) = {PY}" in requires and "/usr/bin/python3" in requires
    assert "python3-PyMySQL" in run("rpm", "-qp", "--recommends", package).splitlines()
    assert not [r for r in requires if "psutil" in r or "PyMySQL" in r]
    lint = subprocess.run(
        [
            "rpmlint",
            "-c",
            os.path.join(ROOT, "packaging/rpm/rpmlint.toml"),
            package,
            os.path.join(ROOT, "packaging/rpm/pyha.spec"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0 and " 0 errors, 0 warnings" in lint.stdout, lint.stdout

    # Installed into a scratch root, its agent runs on the RPM's own ocflib: the
    # scratch site-packages is laid over the machine's python directory in a private
    # mount namespace, its writes caught in an upper directory, which must stay empty
    # (the byte-code is there; nothing creates caches the package does not own).
    scratch = f"{tmp_path}/root"
    os.makedirs(scratch)
    run("rpm", "--root", scratch, "--nodeps", "--noscripts", "-i", package)
    agent = f"{scratch}/usr/lib/ocf/resource.d/pyha/IPaddr2-py"
    assert stat.S_IMODE(os.stat(agent).st_mode) == 0o755
    upper, work = f"{tmp_path}/upper", f"{tmp_path}/work"
    os.makedirs(upper)
    os.makedirs(work)
    lower = f"{scratch}/usr/lib/python{PY}:/usr/lib/python{PY}"
    script = (
        f"mount -t overlay overlay -o lowerdir={lower},upperdir={upper},workdir={work} "
        f"/usr/lib/python{PY} && {agent} meta-data >/dev/null && "
        f"OCF_RESKEY_ip=192.0.2.7 {agent} validate-all"
    )
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env={"OCF_ROOT": "/usr/lib/ocf", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    written = [os.path.join(d, n) for d, _, names in os.walk(upper) for n in names]
    assert written == [], written


def test_make_deb_builds_a_package_lintian_passes(tarball: str, tmp_path: object) -> None:
    need("dpkg-buildpackage", "dh", "dh_python3", "lintian", "dpkg-deb")
    out = f"{tmp_path}/deb"
    make("deb", f"DEB_DIR={out}", f"DIST_DIR={os.path.dirname(tarball)}")
    (package,) = glob.glob(f"{out}/pyha_{VERSION}_all.deb")
    listing = run("dpkg-deb", "--contents", package)
    # mode owner size date time path [-> target]
    files = {line.split()[5].lstrip("."): line.split()[0] for line in listing.splitlines()}
    for agent in AGENT_NAMES:
        assert files[f"/usr/lib/ocf/resource.d/pyha/{agent}"] == "-rwxr-xr-x"
        assert f"/usr/share/man/man7/ocf_pyha_{agent}.7.gz" in files
    assert "/usr/lib/python3/dist-packages/ocflib/agent.py" in files
    assert files["/usr/sbin/pyha"] == "-rwxr-xr-x"
    assert "/usr/share/man/man8/pyha.8.gz" in files
    # The documentation, as the RPM ships it (dh_compress compresses the larger files).
    docs = {
        m.group(1)
        for f in files
        if (m := re.fullmatch(r"/usr/share/doc/pyha/([^/]+?)(?:\.gz)?", f))
    }
    assert docs - {"changelog", "copyright"} == set(DOCS), docs ^ set(DOCS)
    assert "/usr/share/doc/pyha/MIGRATING.md.gz" in files  # pyha(8) points there
    # Debian compiles at installation (py3compile in postinst), never ships byte-code.
    assert not [f for f in files if f.endswith(".pyc")]
    assert shipped(files, "/usr/lib/python3/dist-packages") == tree_modules()
    fields = run("dpkg-deb", "--field", package, "Depends", "Recommends")
    assert "python3:any" in fields and "python3-pymysql" in fields
    assert "psutil" not in fields
    assert "py3compile -p pyha" in run("dpkg-deb", "--info", package, "postinst")
    (changes,) = glob.glob(f"{out}/pyha_{VERSION}_*.changes")
    lint = subprocess.run(
        ["lintian", "--fail-on", "error,warning", changes],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert not re.search(r"^[EW]: ", lint.stdout, re.M), lint.stdout
