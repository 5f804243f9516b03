"""ocflib: a typed library for OCF resource agents (the base of pyha's agents).

Import the submodules directly (ocflib.agent, ocflib.params, ...): this
package file does no work, so an agent's start-up stays lean.
"""

__version__ = "0.3.0"
