"""The array module of a device formula's arguments, so that one formula serves the tables (numpy) and the networks
(JAX, under jit)."""
from __future__ import annotations

import numpy as np


def array_module(*arrays):
    """numpy, or jax.numpy where any argument is a JAX array."""
    for a in arrays:
        if type(a).__module__.startswith("jax"):
            import jax.numpy as jnp
            return jnp
    return np
