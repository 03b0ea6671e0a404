"""A fully-connected GAN on passive RRAM crossbars, float-trained (Adam) or trained in situ (Manhattan rule).

Generator latent -> hidden[0] -> hidden[1] -> 784 and discriminator 784 -> hidden[1] -> hidden[0] -> 1,
dense layers with digital tanh between them (tanh on the generator's output, a sigmoid in the loss of the
discriminator's logit). The bias of a layer is one more crossbar row driven at full scale.

In situ, a weight is a differential pair of devices, w = s (G+ - G-) / (g_high - g_low), and every
product goes through the device model of the tables (rram_read, rram_update):

- forward read: the DAC puts V_i = V_read q(x_i / fs) on the rows (fs the layer's input full scale);
  column j collects sum_i I(V_i; +) - I(V_i; -) with I = A1 V + A3 V^3 of each device (A1, A3 from its
  state G0 and its device draw xi), plus Johnson noise of the column, variance 4 k_B T df sum_i (A1+ + A1-),
  redrawn per read; the ADC quantises the column output;
- backward read: the error vector drives the columns (its DAC full scale the batch's max |delta|) and the
  rows collect the transposed products through the same devices, with their noise;
- update: the periphery computes sign(sum over the batch of x_i delta_j) and applies one pulse to each
  device whose weight has a nonzero sign: w up is a SET pulse on G+ and a RESET pulse on G-, w down the
  reverse. A pulse moves G0 by the step of its bin (mean D, spread s): D + s (sqrt(f) zeta_device +
  sqrt(1 - f) zeta_pulse), f = devices.rram.SWITCHING_D2D_FRACTION.

Conductances in S, voltages in V, currents in A. Variants: insitu has every variation of the model;
insitu_temporal only the temporal ones (read noise, cycle-to-cycle switching: the device draws xi and
zeta_device are zero); insitu_novar none (the devices keep their nonlinear I-V and state-dependent steps).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from devices import rram
from devices.constants import K_B_J_PER_K, ZERO_CELSIUS_K
from system.crossbar import calibrate_full_scale, fast_searchsorted, quantise

IMAGE_PIXELS = 784
VARIANTS = ("float", "insitu", "insitu_temporal", "insitu_novar")
NOISES = ("gaussian", "uniform", "crossbar")
VERIFY_ITERATIONS = 20  # write-verify steps: 20 bring a 3-sigma device (slope of I in g down to ~0.5) within 3e-5
LATENT_FULL_SCALE = {"gaussian": 4.0, "crossbar": 4.0, "uniform": 1.0}  # DAC full scale of the latent input


@dataclass(frozen=True)
class FCGANConfig:
    """Config section `fcgan` (sizes, training) and the run's variant and noise."""
    latent_dim: int
    hidden: tuple[int, ...]
    batch_size: int
    epochs: int
    learning_rate: float
    beta1: float
    weight_scale: float
    dac_bits: int
    adc_bits: int
    dac_energy_J: float = 0.0       # per conversion (system.energy: FOM 2^bits)
    adc_energy_J: float = 0.0
    variant: str = "float"
    noise: str = "gaussian"
    seed: int = 0

    @classmethod
    def from_config(cls, section: dict, variant: str, noise: str, seed: int, dac_energy_J: float = 0.0,
                    adc_energy_J: float = 0.0) -> FCGANConfig:
        if variant not in VARIANTS or noise not in NOISES:
            raise ValueError(f"fcgan.runs: unknown run {variant}/{noise}")
        return cls(latent_dim=int(section["latent_dim"]), hidden=tuple(int(h) for h in section["hidden"]),
                   batch_size=int(section["batch_size"]), epochs=int(section["epochs"]),
                   learning_rate=float(section["learning_rate"]), beta1=float(section["beta1"]),
                   weight_scale=float(section["weight_scale"]), dac_bits=int(section["dac_bits"]),
                   adc_bits=int(section["adc_bits"]),
                   dac_energy_J=dac_energy_J, adc_energy_J=adc_energy_J, variant=variant, noise=noise, seed=int(seed))

    @property
    def in_situ(self) -> bool:
        return self.variant != "float"

    @property
    def device_variation(self) -> bool:
        """Device-to-device draws (read xi, switching zeta_device): variant insitu only."""
        return self.variant == "insitu"

    @property
    def temporal_variation(self) -> bool:
        """Read noise and cycle-to-cycle switching draws: insitu and insitu_temporal."""
        return self.variant in ("insitu", "insitu_temporal")

    @property
    def generator_dims(self) -> tuple[int, ...]:
        return (self.latent_dim, *self.hidden, IMAGE_PIXELS)

    @property
    def discriminator_dims(self) -> tuple[int, ...]:
        return (IMAGE_PIXELS, *reversed(self.hidden), 1)


@dataclass(frozen=True, eq=False)
class RRAMDevice:
    """The device model as the tables give it (numpy arrays, constants of the jitted step)."""
    g_grid_S: np.ndarray        # rram_read.g0_S
    A1_S: np.ndarray
    A3_S_per_V2: np.ndarray
    sigma_A1_S: np.ndarray
    sigma_A3_S_per_V2: np.ndarray
    bin_edges_S: np.ndarray     # 9 edges of the 8 switching bins
    step_mean_S: dict           # {"set": (8,), "reset": (8,)}
    step_spread_S: dict
    pulse_V: dict               # {"set": V, "reset": V}
    pulse_s: dict
    read_voltage_V: float
    read_time_s: float
    temperature_C: float
    g_low_S: float
    g_high_S: float
    window_S: tuple[float, float] = field(default=(3.16e-6, 316e-6))

    @classmethod
    def from_tables(cls, read, read_fit: dict, update, update_fit: dict) -> RRAMDevice:
        """From the rram_read and rram_update frames and their sidecars' `fitted` dicts."""
        steps = {d: update[update["direction"] == d].sort_values("bin") for d in ("set", "reset")}
        edges = np.append(steps["set"]["g_low_S"].to_numpy(), steps["set"]["g_high_S"].to_numpy()[-1])
        return cls(
            g_grid_S=read["g0_S"].to_numpy(), A1_S=read["A1_S"].to_numpy(), A3_S_per_V2=read["A3_S_per_V2"].to_numpy(),
            sigma_A1_S=read["sigma_A1_S"].to_numpy(), sigma_A3_S_per_V2=read["sigma_A3_S_per_V2"].to_numpy(),
            bin_edges_S=edges,
            step_mean_S={d: f["delta_mean_S"].to_numpy() for d, f in steps.items()},
            step_spread_S={d: f["delta_spread_S"].to_numpy() for d, f in steps.items()},
            pulse_V={d: float(f["amplitude_V"].iloc[0]) for d, f in steps.items()},
            pulse_s={d: float(f["duration_s"].iloc[0]) for d, f in steps.items()},
            read_voltage_V=float(read_fit["read_voltage_V"]), read_time_s=float(read_fit["read_time_s"]),
            temperature_C=float(read_fit["temperature_C"]),
            g_low_S=float(read_fit["operating_window"]["g_low_S"]),
            g_high_S=float(read_fit["operating_window"]["g_high_S"]),
            window_S=tuple(float(g) for g in read_fit["model_window_S"]))

    @property
    def noise_power_A2_per_S(self) -> float:
        """4 k_B T df (A^2 per S of conductance): Johnson noise over the read bandwidth 1 / (2 t_read)."""
        return 4 * K_B_J_PER_K * (self.temperature_C + ZERO_CELSIUS_K) / (2 * self.read_time_s)

    @property
    def window_width_S(self) -> float:
        return self.g_high_S - self.g_low_S

    def coefficients(self, g, xi):
        """(A1, A3) of devices in states g (S) with read draws xi: the read table interpolated linearly in g."""
        grid = np.asarray(self.g_grid_S)
        k = jnp.clip(fast_searchsorted(grid, g, side="right") - 1, 0, len(grid) - 2)
        lo, hi = jnp.asarray(grid)[k], jnp.asarray(grid)[k + 1]
        t = jnp.clip((g - lo) / (hi - lo), 0.0, 1.0)

        def interp(values):
            values = jnp.asarray(values)
            return values[k] + t * (values[k + 1] - values[k])

        return (interp(self.A1_S) + xi * interp(self.sigma_A1_S),
                interp(self.A3_S_per_V2) + xi * interp(self.sigma_A3_S_per_V2))

    def layer_read(self, layer: dict, read_noise: bool) -> dict:
        """What a read of a layer of devices needs: differential coefficients a1, a3 (R, C) and the Johnson
        noise variances (A^2) of each column (forward) and each row (backward) at zero noise if not read_noise."""
        a1p, a3p = self.coefficients(layer["gp"], layer["xi_p"])
        a1m, a3m = self.coefficients(layer["gm"], layer["xi_m"])
        total = a1p + a1m
        factor = self.noise_power_A2_per_S if read_noise else 0.0
        load3 = a3p + a3m
        return {"a1": a1p - a1m, "a3": a3p - a3m, "column_var": factor * jnp.sum(total, axis=0),
                "row_var": factor * jnp.sum(total, axis=1),
                "row_load": (jnp.sum(total, axis=1), jnp.sum(load3, axis=1)),
                "column_load": (jnp.sum(total, axis=0), jnp.sum(load3, axis=0))}

    def read_energy_J(self, v_sq_sum, load) -> jax.Array:
        """Energy (J) dissipated in a read: t_read sum_i (sum_b V_bi^2) sum_j A1_ij + (sum_b V_bi^4) sum_j A3_ij
        over the devices of both polarities; v_sq_sum (sum_b V^2, sum_b V^4) per driven line, load the
        (sum A1, sum A3) of each driven line."""
        return self.read_time_s * (jnp.sum(v_sq_sum[0] * load[0]) + jnp.sum(v_sq_sum[1] * load[1]))

    def read_current(self, g, xi):
        """Current (A) at V_read of devices in states g (S) with read draws xi, without noise."""
        a1, a3 = self.coefficients(g, xi)
        return a1 * self.read_voltage_V + a3 * self.read_voltage_V ** 3

    def verify(self, target_S, xi, iterations: int = VERIFY_ITERATIONS):
        """States (S) whose read current at V_read equals that of nominal devices (xi = 0) in states
        target_S: write-verify (Alibart et al., Nanotechnology 23, 075201 (2012)) as fixed-point
        iterations g <- g + (I_target - I(g)) / V_read, kept inside the model's window."""
        goal = self.read_current(target_S, jnp.zeros_like(xi))
        g = target_S
        for _ in range(iterations):
            g = jnp.clip(g + (goal - self.read_current(g, xi)) / self.read_voltage_V, *self.window_S)
        return g

    def pulse(self, g, direction: str, zeta_device, zeta_pulse):
        """States after one pulse of `direction` ("set" / "reset"), kept inside the model's window."""
        b = jnp.clip(fast_searchsorted(np.asarray(self.bin_edges_S), g, side="right") - 1, 0, len(self.bin_edges_S) - 2)
        mean = jnp.asarray(self.step_mean_S[direction])[b]
        spread = jnp.asarray(self.step_spread_S[direction])[b]
        f = rram.SWITCHING_D2D_FRACTION
        return jnp.clip(g + mean + spread * (math.sqrt(f) * zeta_device + math.sqrt(1.0 - f) * zeta_pulse),
                        *self.window_S)

    def pulse_energy_J(self, g, direction: str):
        """V_p^2 G t_p (J) of one pulse on devices in states g."""
        return self.pulse_V[direction] ** 2 * g * self.pulse_s[direction]


# ---------------------------------------------------------------- parameters


def _glorot(key, n_in: int, n_out: int):
    limit = math.sqrt(6.0 / (n_in + n_out))
    return jax.random.uniform(key, (n_in + 1, n_out), minval=-limit, maxval=limit).at[-1].set(0.0)


def init_float(dims: tuple[int, ...], key) -> list:
    """Weights (n_in + 1, n_out) per layer, the last row the bias."""
    keys = jax.random.split(key, len(dims) - 1)
    return [_glorot(k, a, b) for k, a, b in zip(keys, dims[:-1], dims[1:])]


def init_devices(dims: tuple[int, ...], key, cfg: FCGANConfig, dev: RRAMDevice) -> list:
    """Per layer: states gp, gm (S) and the devices' fixed draws (xi read, zeta switching; zeros for
    insitu_novar). Each pair is written to its Glorot weight about the window's centre with write-verify:
    the state is tuned until the device's read current at V_read is that of the target conductance
    (dev.verify), so a device's read draw xi does not offset its initial weight."""
    layers = []
    centre = 0.5 * (dev.g_low_S + dev.g_high_S)
    key_w, key_d = jax.random.split(key)  # the device draws independent of the weights
    for k, w in zip(jax.random.split(key_d, len(dims) - 1), init_float(dims, key_w)):
        half = 0.5 * w / cfg.weight_scale * dev.window_width_S
        draws = jax.random.normal(k, (4, *w.shape)) if cfg.device_variation else jnp.zeros((4, *w.shape))
        layers.append({"gp": dev.verify(centre + half, draws[0]), "gm": dev.verify(centre - half, draws[1]),
                       "xi_p": draws[0], "xi_m": draws[1], "zeta_p": draws[2], "zeta_m": draws[3]})
    return layers


def device_weights(layer: dict, cfg: FCGANConfig, dev: RRAMDevice):
    """The nominal weights s (G+ - G-) / (g_high - g_low) of a layer of devices."""
    return cfg.weight_scale * (layer["gp"] - layer["gm"]) / dev.window_width_S


def device_inputs(params: list, cfg: FCGANConfig, dev: RRAMDevice | None) -> tuple[list, list | None]:
    """(weights, reads) of a network for `network`: in situ the devices' weights (the leaves the gradient is
    taken for) and each layer's RRAMDevice.layer_read, computed once per step; in float the params and None."""
    if not cfg.in_situ:
        return params, None
    return [device_weights(p, cfg, dev) for p in params], [dev.layer_read(p, cfg.temporal_variation) for p in params]


# ---------------------------------------------------------------- the crossbar product


@jax.custom_vjp
def _crossbar(v_rows, w, a1, a3, back_noise):
    """Row voltages (B, R) -> column currents (B, C) through devices of differential coefficients a1, a3
    (R, C). w carries the gradient of the digital outer product; back_noise (B, R) the backward read's noise."""
    return v_rows @ a1 + v_rows ** 3 @ a3


def _crossbar_fwd(v_rows, w, a1, a3, back_noise):
    return _crossbar(v_rows, w, a1, a3, back_noise), (v_rows, a1, a3, back_noise)


def _crossbar_bwd(res, g):
    """The error g (B, C) drives the columns at up to V_read (scale restored digitally) and the rows read
    the transposed product through the same devices; the weight gradient is the outer product."""
    v_rows, a1, a3, back_noise = res
    scale = jnp.maximum(jnp.max(jnp.abs(g)), 1e-30)
    u = g / scale
    grad_v = (u @ a1.T + u ** 3 @ a3.T + back_noise) * scale
    grad_w = v_rows.T @ g
    return grad_v, grad_w, jnp.zeros_like(a1), jnp.zeros_like(a3), jnp.zeros_like(back_noise)


_crossbar.defvjp(_crossbar_fwd, _crossbar_bwd)


def insitu_dense(x, w, read: dict, state: dict, key, cfg: FCGANConfig, dev: RRAMDevice, full_scale: float,
                 train: bool):
    """x (B, R - 1) -> pre-activations (B, C) in weight units, through a layer of devices (its
    RRAMDevice.layer_read); w (R, C), equal to the devices' weights, receives the weight gradient.
    Returns (y, new converter state, energy (J) of the reads and conversions: the forward read from the
    row voltages; in training also the backward read, counted as if every column were driven at V_read
    (an upper bound: the error's DAC scales its largest element to V_read), and each read's conversions)."""
    V = dev.read_voltage_V
    x = jnp.concatenate([jnp.clip(x / full_scale, -1.0, 1.0), jnp.ones((x.shape[0], 1))], axis=1)
    v_rows = V * quantise(x, cfg.dac_bits, jnp.asarray(1.0))
    k_f, k_b = jax.random.split(key)
    # backward read at full scale V_read: Johnson noise of each row, in units of V_read x conductance
    back_noise = jnp.sqrt(read["row_var"]) / V * jax.random.normal(k_b, v_rows.shape)
    current = _crossbar(v_rows, w, read["a1"], read["a3"], back_noise)
    current = current + jnp.sqrt(read["column_var"]) * jax.random.normal(k_f, current.shape)
    # current / (V_read dG_window / s) is the product in weight units at unit input; x was divided by fs
    y = current * cfg.weight_scale / (V * dev.window_width_S) * full_scale
    adc_fs = calibrate_full_scale(state["adc"], y, train)  # the running max |y| (the RRAM runs were measured so)
    B, (R, C) = x.shape[0], read["a1"].shape
    energy = dev.read_energy_J((jnp.sum(v_rows ** 2, axis=0), jnp.sum(v_rows ** 4, axis=0)), read["row_load"])
    energy = energy + B * (R * cfg.dac_energy_J + C * cfg.adc_energy_J)
    if train:  # the backward read, bounded above by every column driven at V_read (docstring)
        energy = energy + B * (dev.read_energy_J((V ** 2, V ** 4), read["column_load"])
                               + C * cfg.dac_energy_J + R * cfg.adc_energy_J)
    return quantise(y, cfg.adc_bits, adc_fs), {"adc": adc_fs}, jax.lax.stop_gradient(energy)


def float_dense(x, w):
    return x @ w[:-1] + w[-1]


def network(weights: list, reads: list | None, states: list, x, key, cfg: FCGANConfig, dev: RRAMDevice | None, *,
            input_fs: float, out: str, train: bool):
    """A stack of dense layers with tanh between them; out "tanh" (generator) or "logit" (discriminator).
    weights: per layer (n_in + 1, n_out), the last row the bias; in situ they are the devices' weights and
    carry the gradient, while the devices compute: reads holds each layer's RRAMDevice.layer_read.
    Returns (output, new converter states, energy (J) of the crossbar reads and conversions; 0 in float)."""
    new_states, energy = [], 0.0
    for i, (w, state) in enumerate(zip(weights, states)):
        if cfg.in_situ:
            fs = input_fs if i == 0 else 1.0
            x, state, e = insitu_dense(x, w, reads[i], state, jax.random.fold_in(key, i), cfg, dev, fs, train)
            energy = energy + e
        else:
            x = float_dense(x, w)
        new_states.append(state)
        if i < len(weights) - 1 or out == "tanh":
            x = jnp.tanh(x)
    return x, new_states, energy


# ---------------------------------------------------------------- training


def bce(logits, target: float):
    return optax.sigmoid_binary_cross_entropy(logits, jnp.full_like(logits, target)).mean()


def latent_full_scale(cfg: FCGANConfig) -> float:
    return LATENT_FULL_SCALE[cfg.noise]


def init(cfg: FCGANConfig, key, dev: RRAMDevice | None) -> dict:
    """Carry of a run: params, converter states and (float) Adam states of G and D."""
    k_g, k_d = jax.random.split(key)
    carry = {}
    for name, dims, k in (("g", cfg.generator_dims, k_g), ("d", cfg.discriminator_dims, k_d)):
        if cfg.in_situ:
            carry[f"params_{name}"] = init_devices(dims, k, cfg, dev)
        else:
            carry[f"params_{name}"] = init_float(dims, k)
            carry[f"opt_{name}"] = optax.adam(cfg.learning_rate, b1=cfg.beta1).init(carry[f"params_{name}"])
        carry[f"state_{name}"] = [{"adc": jnp.zeros(())} for _ in dims[1:]]
    return carry


def manhattan(params: list, grads: list, key, dev: RRAMDevice, cfg: FCGANConfig):
    """One pulse on each device of a weight whose gradient sign is nonzero; returns (new params, counts
    {set, reset} of pulses, programming energy (J))."""
    new, sets, resets, energy = [], 0, 0, 0.0
    for i, (layer, grad) in enumerate(zip(params, grads)):
        up, down = grad < 0, grad > 0   # descent: w up where the gradient is negative
        zeta = (jax.random.normal(jax.random.fold_in(key, i), (2, *grad.shape)) if cfg.temporal_variation
                else jnp.zeros((2, *grad.shape)))
        gp, gm = layer["gp"], layer["gm"]
        gp_set, gp_reset = (dev.pulse(gp, d, layer["zeta_p"], zeta[0]) for d in ("set", "reset"))
        gm_set, gm_reset = (dev.pulse(gm, d, layer["zeta_m"], zeta[1]) for d in ("set", "reset"))
        energy += jnp.sum(jnp.where(up, dev.pulse_energy_J(gp, "set") + dev.pulse_energy_J(gm, "reset"), 0.0)
                          + jnp.where(down, dev.pulse_energy_J(gp, "reset") + dev.pulse_energy_J(gm, "set"), 0.0))
        n = jnp.sum(up) + jnp.sum(down)
        sets, resets = sets + n, resets + n
        new.append({**layer, "gp": jnp.where(up, gp_set, jnp.where(down, gp_reset, gp)),
                    "gm": jnp.where(up, gm_reset, jnp.where(down, gm_set, gm))})
    return new, {"set": sets, "reset": resets}, energy


def make_train_step(cfg: FCGANConfig, dev: RRAMDevice | None):
    """One jitted GAN step (carry, real (B, 784), z (B, latent), key) -> (carry, metrics)."""
    G = partial(network, cfg=cfg, dev=dev, input_fs=latent_full_scale(cfg), out="tanh", train=True)
    D = partial(network, cfg=cfg, dev=dev, input_fs=1.0, out="logit", train=True)
    opt = optax.adam(cfg.learning_rate, b1=cfg.beta1)

    def d_loss_fn(weights, reads_d, state_d, real, fake, key):
        real_logits, state_d, e_real = D(weights, reads_d, state_d, real, jax.random.fold_in(key, 0))
        fake_logits, state_d, e_fake = D(weights, reads_d, state_d, fake, jax.random.fold_in(key, 1))
        return bce(real_logits, 1.0) + bce(fake_logits, 0.0), (state_d, e_real + e_fake)

    def g_loss_fn(weights_g, reads_g, state_g, weights_d, reads_d, state_d, z, key):
        fake, state_g, e_g = G(weights_g, reads_g, state_g, z, jax.random.fold_in(key, 0))
        logits, _, e_d = D(weights_d, reads_d, state_d, fake, jax.random.fold_in(key, 1))
        return bce(logits, 1.0), (state_g, e_g + e_d)

    def update(name, carry, grads, key):
        params = carry[f"params_{name}"]
        if cfg.in_situ:
            return (*manhattan(params, grads, key, dev, cfg), None)
        updates, opt_state = opt.update(grads, carry[f"opt_{name}"], params)
        return optax.apply_updates(params, updates), {"set": 0, "reset": 0}, 0.0, opt_state

    @jax.jit
    def step(carry, real, z, key):
        k_g, k_d, k_gd, k_ud, k_ug = jax.random.split(key, 5)
        weights_g, reads_g = device_inputs(carry["params_g"], cfg, dev)
        fake, state_g, e_fake = G(weights_g, reads_g, carry["state_g"], z, k_g)
        fake = jax.lax.stop_gradient(fake)
        (d_loss, (state_d, e_d)), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(
            *device_inputs(carry["params_d"], cfg, dev), carry["state_d"], real, fake, k_d)
        params_d, d_pulses, d_energy, opt_d = update("d", carry, d_grads, k_ud)
        carry = {**carry, "params_d": params_d, "state_d": state_d}
        if opt_d is not None:
            carry["opt_d"] = opt_d
        (g_loss, (state_g, e_g)), g_grads = jax.value_and_grad(g_loss_fn, has_aux=True)(
            weights_g, reads_g, carry["state_g"], *device_inputs(params_d, cfg, dev), state_d, z, k_gd)
        params_g, g_pulses, g_energy, opt_g = update("g", carry, g_grads, k_ug)
        carry = {**carry, "params_g": params_g, "state_g": state_g}
        if opt_g is not None:
            carry["opt_g"] = opt_g
        return carry, {"d_loss": d_loss, "g_loss": g_loss,
                       "pulses": d_pulses["set"] + d_pulses["reset"] + g_pulses["set"] + g_pulses["reset"],
                       "program_energy_J": d_energy + g_energy, "read_energy_J": e_fake + e_d + e_g}

    return step


def make_generate(cfg: FCGANConfig, dev: RRAMDevice | None):
    """Jitted (params_g, state_g, z, key) -> (images (B, 784) in [-1, 1], energy (J) of their crossbar reads
    and conversions), converters frozen."""
    G = partial(network, cfg=cfg, dev=dev, input_fs=latent_full_scale(cfg), out="tanh", train=False)
    def generate(params, states, z, key):
        images, _, energy = G(*device_inputs(params, cfg, dev), states, z, key)
        return images, energy

    return jax.jit(generate)
