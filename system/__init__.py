"""Hardware-aware JAX DCGAN on skyrmion-synapse crossbars with domain-wall activations.

Modules: ``tables`` (device lookup tables), ``crossbar`` (dense/conv crossbar op),
``deconv`` (transposed convolution as zero-padded convolution), ``activation`` (DW ReLU /
Leaky ReLU op), ``dcgan`` (networks), ``train`` (training and sampling), ``energy`` (energy
per image), and ``data``, ``metrics``, ``classifier``, ``inception`` (datasets and metrics).
"""
