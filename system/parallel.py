"""Data parallelism: the training step over several devices, the batch split, the parameters replicated.

The step is the same jitted program as on one device; its inputs carry shardings (the batch split along the
mesh axis "data", everything else replicated) and XLA partitions it, reducing the loss, the gradients, the batch
norm statistics and the converters' batch maxima over the whole batch, so the step computes what the
single-device step computes, up to the order of float additions. On a CPU the devices are virtual:
XLA_FLAGS=--xla_force_host_platform_device_count=N before JAX starts (the train rule sets it); on GPUs they are the
GPUs.
"""
from __future__ import annotations

import jax
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

AXIS = "data"


def data_mesh(n_devices: int) -> Mesh:
    """A one-axis mesh over the first n_devices devices; ValueError naming the key if there are fewer."""
    available = jax.devices()
    if not 1 <= n_devices <= len(available):
        raise ValueError(f"system.data_parallel_devices: {n_devices} devices asked for, {len(available)} available "
                         f"({available[0].platform}; on a CPU set XLA_FLAGS=--xla_force_host_platform_device_count)")
    # Auto axes: XLA propagates the shardings through every op (the explicit mode would ask each gather of the
    # activation and level tables for its output sharding)
    return jax.make_mesh((n_devices,), (AXIS,), axis_types=(AxisType.Auto,), devices=available[:n_devices])


def replicate(tree, mesh: Mesh):
    """Every leaf of tree on every device of the mesh."""
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))


def split_batch(batch, mesh: Mesh):
    """The batch (leading axis) split evenly over the mesh; ValueError if it does not divide."""
    n = mesh.devices.size
    if batch.shape[0] % n:
        raise ValueError(f"system.batch_size: {batch.shape[0]} does not split over {n} devices")
    return jax.device_put(batch, NamedSharding(mesh, PartitionSpec(AXIS)))
