"""The pyha agents' implementations; agents/<Name>-py are thin executables over them.

Kept here rather than in the executables because Python caches bytecode only
for imported modules: compiling a 700-line script costs ~8 ms on every run.
"""

import os
import sys


def main(module: str, name: str) -> int:
    """Run agent `name`, implemented in ocflib.agents.<module>.

    meta-data comes from <name>.xml beside this file when installed there
    (`make install` copies metadata/<name>.xml, rendered from the same
    specification at build time): printing it imports nothing. Pacemaker asks
    for it on a failover's critical path, the first time a node starts a
    resource, and where process starts are slow (a User-Mode-Linux guest) the
    import costs more than the interpreter itself. Where Pacemaker predates 2.1
    the advertised roles are Master/Slave (ocflib.pacemaker.for_this_pacemaker). A
    checkout renders it. When
    the file cannot be read or the output not written, the agent's own
    dispatch does it and reports what went wrong.
    """
    if sys.argv[1:] == ["meta-data"] and sys.stdout is not None:
        try:
            with open(os.path.join(os.path.dirname(__file__), f"{name}.xml"), "rb") as f:
                xml = f.read()
            if b'role="' in xml:
                from ocflib.pacemaker import for_this_pacemaker

                xml = for_this_pacemaker(xml)
            sys.stdout.buffer.write(xml)
            sys.stdout.flush()
            return 0
        except (OSError, ValueError):
            pass
    agent = __import__(f"ocflib.agents.{module}", fromlist=["AGENT"]).AGENT
    return int(agent.main())
