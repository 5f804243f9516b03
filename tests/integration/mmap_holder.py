#!/usr/bin/python3
"""Map a file (MAP_SHARED) and close its descriptor: only the mapping holds the mount.

mmap_holder.py PATH   (sleeps until killed)
"""

import ctypes
import os
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_long,
]
fd = os.open(sys.argv[1], os.O_RDWR)
if libc.mmap(None, 4096, 3, 1, fd, 0) in (None, ctypes.c_void_p(-1).value):
    sys.exit(f"mmap failed: errno {ctypes.get_errno()}")
os.close(fd)
time.sleep(300)
