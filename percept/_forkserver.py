"""Imported only by the page pool's forkserver, as its first preload module: ties it to the server's life.

An import is the one hook multiprocessing gives into the forkserver before it forks any worker; nothing else
imports this module (see :mod:`percept.lifeline`).
"""

from .lifeline import arm_forkserver

arm_forkserver()
