"""The pyha agents' implementations; agents/<Name>-py are thin executables over them.

Kept here rather than in the executables because Python caches bytecode only
for imported modules: compiling a 700-line script costs ~8 ms on every run.
"""
