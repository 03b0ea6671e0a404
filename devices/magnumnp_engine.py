"""magnum.np engine: a micromagneticmodel.System translated into magnum.np terms, run by fast torch solvers.

Translation (SI units): every energy term becomes the magnum.np field term with the same physics
(Exchange -> ExchangeField, DMI -> DMIField, UniaxialAnisotropy -> UniaxialAnisotropyField,
Demag -> DemagField, Zeeman -> ExternalField). magnum.np's DMI energy has the opposite sign to
ubermag/OOMMF for every crystal class (its field is +2D/(mu0 Ms) sum_k v_k x dm/dk), so the
same chirality needs D_magnumnp = -D_ubermag. Parameters are zero in cells with Ms = 0, so
magnum.np's harmonic face averages couple no magnetic cell to an empty one.

Speed: the local terms (exchange, DMI, anisotropy, Zeeman, SOT) are affine and couple only
nearest neighbours, so their exact discrete operator is read off magnum.np's own field terms with
21 probe evaluations (a distance-2 colouring of the grid) into one sparse matrix; the demag field
is one FFT convolution with magnum.np's Newell kernel. Relaxation is a preconditioned L-BFGS over
the spins' rotation vectors with a cap on the rotation per step; a steady state under a constant
current is a Barzilai-Borwein descent along the torque with the current-driven field added; dynamics
is the Landau-Lifshitz-Gilbert equation integrated by magnum.np's RKF45.

magnum.np is imported lazily; its import-time changes to torch (default dtype and device), its GPU
probe (skipped through CUDA_DEVICE, set to -1 when torch sees no GPU) and its process title are
undone. Set CUDA_DEVICE=0 to run on a GPU.
"""
from __future__ import annotations

import contextlib
import copy
import logging
import math
import os
import types
import warnings

os.environ.setdefault("TORCHDYNAMO_DISABLE", "1")  # torch.compile slows small CPU problems down

import discretisedfield as df  # noqa: E402
import micromagneticmodel as mm  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
import ubermagutil.typesystem as ts  # noqa: E402

from devices.constants import MU0  # noqa: E402
from devices.engine import TABLE_COLUMNS, EngineError  # noqa: E402

_MAGNUMNP = None

# ubermag crystal class -> magnum.np DMI vectors (e_x, e_y, e_z); D_magnumnp = -D_ubermag for all.
_DMI_VECTORS = {
    "Cnv_z": ((0, 1, 0), (-1, 0, 0), (0, 0, 0)),
    "Cnv": ((0, 1, 0), (-1, 0, 0), (0, 0, 0)),
    "Cnv_x": ((0, 0, 0), (0, 0, 1), (0, -1, 0)),
    "Cnv_y": ((0, 0, -1), (0, 0, 0), (1, 0, 0)),
    "T": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "O": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "D2d_z": ((-1, 0, 0), (0, 1, 0), (0, 0, 0)),
    "D2d_x": ((0, 0, 0), (0, -1, 0), (0, 0, 1)),
    "D2d_y": ((1, 0, 0), (0, 0, 0), (0, 0, -1)),
}
_STENCIL = ((0, 0, 0), (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1))


def _magnumnp():
    """The magnumnp module, imported once with torch's defaults and the process title preserved."""
    global _MAGNUMNP
    if _MAGNUMNP is None:
        if "CUDA_DEVICE" not in os.environ:
            os.environ["CUDA_DEVICE"] = "0" if torch.cuda.is_available() else "-1"
        dtype, device = torch.get_default_dtype(), torch.get_default_device()
        log = logging.getLogger("magnum.np")
        log.disabled = True
        title = _proctitle()
        try:
            import magnumnp
        finally:
            torch.set_default_dtype(dtype)
            torch.set_default_device(None if device.type == "cpu" else device)
            log.disabled = False
            log.setLevel(logging.WARNING)
            _proctitle(title)
        _MAGNUMNP = magnumnp
    return _MAGNUMNP


def _proctitle(title: str | None = None) -> str | None:
    """Get (or set) the process title where setproctitle is installed (magnum.np renames the process)."""
    try:
        import setproctitle
    except ImportError:
        return None
    if title is not None:
        setproctitle.setproctitle(title)
    return setproctitle.getproctitle()


def version() -> str:
    """magnum.np version string."""
    from importlib.metadata import version as dist_version
    return f"magnum.np {dist_version('magnumnp')}"


def device():
    """torch device magnum.np runs on: cuda:N when CUDA_DEVICE >= 0 and a GPU is visible, else cpu."""
    _magnumnp()
    index = int(os.environ["CUDA_DEVICE"])
    return torch.device(f"cuda:{index}" if index >= 0 and torch.cuda.is_available() else "cpu")


@contextlib.contextmanager
def _torch_defaults(dev):
    """float64 and dev as torch defaults inside magnum.np calls; restored afterwards."""
    dtype, old = torch.get_default_dtype(), torch.get_default_device()
    torch.set_default_dtype(torch.float64)
    torch.set_default_device(dev)
    try:
        yield
    finally:
        torch.set_default_dtype(dtype)
        torch.set_default_device(None if old.type == "cpu" else old)


@contextlib.contextmanager
def threads_for(n_cells: int):
    """Cap torch's CPU threads for small grids (thread start-up costs more than it saves there)."""
    old = torch.get_num_threads()
    torch.set_num_threads(max(1, min(old, n_cells // 32768)))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _is_set(value) -> bool:
    return not isinstance(value, ts.descriptors.Descriptor)


def _cell_array(value, mesh, nvdim: int, what: str) -> np.ndarray:
    """A scalar/vector parameter as an (nx, ny, nz, nvdim) array on mesh; EngineError if unsupported."""
    if isinstance(value, df.Field):
        if value.nvdim != nvdim or tuple(value.mesh.n) != tuple(mesh.n) or not np.allclose(
                value.mesh.region.pmin, mesh.region.pmin) or not np.allclose(value.mesh.region.pmax,
                                                                                mesh.region.pmax):
            raise EngineError(f"{what}: a Field parameter must be defined on the magnetisation's mesh "
                              f"with nvdim={nvdim}")
        return np.asarray(value.array, dtype=float).reshape(*mesh.n, nvdim)
    if isinstance(value, dict):
        raise EngineError(f"{what}: per-region (dict) parameters are not supported by the magnumnp "
                          "engine; pass a discretisedfield Field")
    array = np.asarray(value, dtype=float)
    if array.size != nvdim:
        raise EngineError(f"{what}: expected {nvdim} component(s), got {value!r}")
    return np.broadcast_to(array.reshape(nvdim), (*mesh.n, nvdim)).copy()


class Model:
    """A system translated into magnum.np: state, terms and the fast operators derived from them.

    Attributes are torch tensors on one device, shaped (nx, ny, nz, 3) or (nx, ny, nz, 1): m0 (unit
    initial magnetisation, zero where Ms = 0), Ms (A/m), alpha, and gamma0 (m/(A s)).
    """

    def __init__(self, system: mm.System, sot=None, dynamics: bool = False):
        with threads_for(int(np.prod(system.m.mesh.n))):
            self._build(system, sot, dynamics)

    def _build(self, system, sot, dynamics):
        mn = _magnumnp()
        self.dev = device()
        mesh = system.m.mesh
        if mesh.bc:
            raise EngineError(f"periodic boundary conditions (bc={mesh.bc!r}) are not supported by the "
                              "magnumnp engine")
        self.n, self.cell = tuple(int(k) for k in mesh.n), tuple(float(c) for c in mesh.cell)
        M = np.asarray(system.m.array, dtype=float).reshape(*self.n, 3)
        Ms = np.linalg.norm(M, axis=-1, keepdims=True)
        magnetic = Ms > 0
        m0 = np.divide(M, Ms, out=np.zeros_like(M), where=magnetic)
        with _torch_defaults(self.dev):
            self.state = mn.State(mn.Mesh(self.n, self.cell, origin=tuple(mesh.region.pmin)))
            def tensor(a):
                return torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float64, device=self.dev)
            material = {"Ms": tensor(Ms)}
            terms, self.demag = [], None
            Ms_safe = np.where(magnetic, Ms, np.inf)
            self.exchange_stiffness, self.local_stiffness = 0.0, 0.0  # preconditioner scales (A m, A/m)
            for i, term in enumerate(system.energy):
                name = type(term).__name__
                if isinstance(term, mm.Exchange):
                    A = _cell_array(term.A, mesh, 1, "Exchange A")
                    material[f"A{i}"] = tensor(A * magnetic)
                    self.exchange_stiffness += float(np.max(2 * np.abs(A) / (MU0 * Ms_safe)))
                    terms.append(mn.ExchangeField(A=f"A{i}"))
                elif isinstance(term, mm.DMI):
                    if term.crystalclass not in _DMI_VECTORS:
                        raise EngineError(f"DMI crystalclass {term.crystalclass!r} is not supported")
                    material[f"D{i}"] = tensor(-_cell_array(term.D, mesh, 1, "DMI D") * magnetic)
                    vectors = np.asarray(_DMI_VECTORS[term.crystalclass], dtype=float).tolist()
                    terms.append(mn.DMIField(vectors, D=f"D{i}"))
                elif isinstance(term, mm.UniaxialAnisotropy):
                    if _is_set(term.K2):
                        raise EngineError("UniaxialAnisotropy K2 (fourth order) is not supported")
                    K = term.K if _is_set(term.K) else term.K1
                    u = _cell_array(term.u, mesh, 3, "UniaxialAnisotropy u")
                    u = u / np.linalg.norm(u, axis=-1, keepdims=True)
                    K = _cell_array(K, mesh, 1, "UniaxialAnisotropy K")
                    material[f"K{i}"] = tensor(K * magnetic)
                    self.local_stiffness += float(np.max(2 * np.abs(K) / (MU0 * Ms_safe)))
                    material[f"u{i}"] = tensor(u)
                    terms.append(mn.UniaxialAnisotropyField(Ku=f"K{i}", Ku_axis=f"u{i}"))
                elif isinstance(term, mm.Demag):
                    self.demag = _Demag(self.state, mn.DemagField())
                    self.local_stiffness += float(Ms.max())
                elif isinstance(term, mm.Zeeman):
                    if any(_is_set(getattr(term, a)) for a in ("wave", "func", "tcl_strings")):
                        raise EngineError("time-dependent Zeeman fields are not supported by the magnumnp engine")
                    H = _cell_array(term.H, mesh, 3, "Zeeman H")
                    terms.append(mn.ExternalField(tensor(H)))
                    self.local_stiffness += float(np.linalg.norm(H, axis=-1).max())
                else:
                    raise EngineError(f"energy term {name} is not supported by the magnumnp engine")
            self.state.material = material
            self.local_terms = terms
            L, self.h0 = self._probe(terms)
            self.L, self.stt_terms, self.L_drive = _csr(L), [], None
            if dynamics:
                L_sot, self.h0_drive = self._translate_dynamics(system, sot, tensor, material, mesh)
                self.state.material = material
                self.L_drive = _csr(L_sot)
        self.Ms, self.m0 = tensor(Ms), tensor(m0)
        self.mask = self.Ms > 0
        self.weight = self.Ms * float(np.prod(self.cell)) * MU0  # mu0 Ms V (J/(A/m))

    def _translate_dynamics(self, system, sot, tensor, material, mesh):
        """LLG parameters and Slonczewski STT terms; returns the probed SOT operator (L, h0)."""
        mn = _magnumnp()
        gamma = [t.gamma0 for t in system.dynamics if isinstance(t, mm.Precession)]
        alpha = [t.alpha for t in system.dynamics if isinstance(t, mm.Damping)]
        self.precess = bool(gamma)
        self.gamma0 = float(gamma[0]) if gamma else mm.consts.gamma0
        self.alpha = tensor(_cell_array(alpha[0], mesh, 1, "Damping alpha") if alpha else np.zeros((*self.n, 1)))
        if not (gamma or alpha):
            raise EngineError("system.dynamics needs mm.Precession and/or mm.Damping for time evolution")
        thickness = float(mesh.region.pmax[2] - mesh.region.pmin[2])
        for term in system.dynamics:
            if isinstance(term, mm.Slonczewski):
                if any(_is_set(getattr(term, a)) for a in ("func", "tcl_strings")):
                    raise EngineError("time-dependent Slonczewski currents are not supported by the magnumnp engine")
                eps = term.eps_prime if _is_set(term.eps_prime) else 0.0
                mp = _cell_array(term.mp, mesh, 3, "Slonczewski mp")
                material.update(J=tensor(_cell_array(term.J, mesh, 1, "Slonczewski J")), d=thickness,
                                mp=tensor(mp / np.linalg.norm(mp, axis=-1, keepdims=True)),
                                P=tensor(_cell_array(term.P, mesh, 1, "Slonczewski P")),
                                Lambda=tensor(_cell_array(term.Lambda, mesh, 1, "Slonczewski Lambda")),
                                epsilon_prime=tensor(_cell_array(eps, mesh, 1, "Slonczewski eps_prime")))
                self.stt_terms.append(mn.SpinTorqueSlonczewski())
            elif not isinstance(term, (mm.Precession, mm.Damping)):
                raise EngineError(f"dynamics term {type(term).__name__} is not supported by the magnumnp engine")
        if sot is None:
            return self._probe([])
        p = np.asarray(sot.polarisation, dtype=float)
        material.update(je=sot.current_density_A_per_m2, eta_damp=sot.spin_hall_angle, eta_field=0.0,
                        p=tensor(p / np.linalg.norm(p)), d=thickness)
        self.state.material = material
        return self._probe([mn.SpinOrbitTorque()])

    def _probe(self, terms):
        """Exact sparse matrix L and constant h0 with sum(term.h) = L m + h0 for affine local terms.

        Cells coloured (i + 2j + 3k) mod 7 give every 7-point stencil seven distinct colours, so one
        probe per (colour, component) recovers each matrix column without overlap.
        """
        nx, ny, nz = self.n
        i, j, k = np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij")
        colour = (i + 2 * j + 3 * k) % 7
        shift = {(dx + 2 * dy + 3 * dz) % 7: (dx, dy, dz) for dx, dy, dz in _STENCIL}
        index = np.arange(nx * ny * nz).reshape(self.n)

        def field(m):
            self.state.m = m
            return sum((term.h(self.state) for term in terms), torch.zeros_like(m)).cpu().numpy()

        h0 = field(torch.zeros(*self.n, 3, dtype=torch.float64, device=self.dev))
        rows, cols, vals = [], [], []
        for c in range(7):
            offset = np.stack([np.array(shift[(c - col) % 7]) for col in range(7)])[colour]  # (nx,ny,nz,3)
            src = np.stack([i, j, k], axis=-1) + offset
            inside = np.all((src >= 0) & (src < np.array(self.n)), axis=-1)
            for a in range(3):
                probe = np.zeros((*self.n, 3))
                probe[..., a] = colour == c
                h = field(torch.as_tensor(probe, device=self.dev)) - h0
                for b in range(3):
                    keep = inside & (h[..., b] != 0)
                    rows.append(3 * index[keep] + b)
                    cols.append(3 * index[tuple(src[keep].T)] + a)
                    vals.append(h[..., b][keep])
        size = 3 * nx * ny * nz
        L = torch.sparse_coo_tensor(torch.as_tensor(np.stack([np.concatenate(rows), np.concatenate(cols)])),
                                    torch.as_tensor(np.concatenate(vals)), (size, size),
                                    dtype=torch.float64, device=self.dev, check_invariants=False)
        return L.coalesce(), torch.as_tensor(h0, device=self.dev)

    def field(self, m):
        """Effective field of the energy terms (A/m) for magnetisation m (nx, ny, nz, 3)."""
        h = (self.L @ m.reshape(-1)).reshape(m.shape) + self.h0
        return h if self.demag is None else h + self.demag(self.Ms * m)

    def energy(self, m, h) -> float:
        """Total energy (J) from m and its effective field h: -mu0 V sum Ms m.(h + h0)/2."""
        return float(-0.5 * (self.weight * m * (h + self.h0)).sum())

    def drive_field(self, m):
        """Effective field of the current-driven terms (SOT, Slonczewski STT) (A/m); zero without them."""
        if self.L_drive is None:
            return torch.zeros_like(m)
        h = (self.L_drive @ m.reshape(-1)).reshape(m.shape) + self.h0_drive
        if self.stt_terms:
            self.state.m = m
            h = h + sum(term.h(self.state) for term in self.stt_terms)
        return h

    def torque_field(self, m):
        """Field of the energy and current-driven terms (A/m) that enters the LLG equation."""
        return self.field(m) + self.drive_field(m)

    def unit(self, m):
        """m renormalised to |m| = 1 in the magnetic cells (empty cells stay zero)."""
        return m / torch.where(self.mask, m.norm(dim=-1, keepdim=True), torch.ones_like(self.Ms))

    def single(self) -> "Model":
        """A float32 copy for the energy terms only (relaxation): the same operators, half the memory traffic."""
        if self.L_drive is not None:
            raise EngineError("single precision is for relaxation: the model must have no current-driven terms")
        out = copy.copy(self)
        out.L, out.h0 = self.L.to(torch.float32), self.h0.to(torch.float32)
        out.Ms, out.m0, out.weight = self.Ms.float(), self.m0.float(), self.weight.float()
        if self.demag is not None:
            out.demag = copy.copy(self.demag)
            out.demag.rows = [[(b, N.to(torch.float32)) for b, N in row] for row in self.demag.rows]
        return out


def _csr(L):
    """COO -> CSR (torch's CSR is 'beta' and says so on every conversion; the warning is dropped)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return L.coalesce().to_sparse_csr()


class _Demag:
    """Demag field by one FFT convolution with magnum.np's Newell kernel (DemagField._init_N).

    Each non-trivial axis of n cells is zero-padded to the smallest 2^a 3^b 5^c >= 2n - 1 (enough
    for a linear convolution) instead of magnum.np's 2n, which can hold a large prime factor (254
    cells: 508 = 4 x 127) that makes the FFT several times slower. Kernels are kept per (grid, cell
    size, device) for the life of the process, so repeated runs on one mesh compute theirs once.
    Kernel blocks that vanish (N_xz, N_yz in a single layer) are skipped.
    """
    _kernels: dict = {}

    def __init__(self, state, term):
        n = state.mesh.n
        self.n = n
        padded = [_fft_size(2 * n[d] - 1) if n[d] > 1 else 1 for d in range(3)]
        self.shape = [padded[d] for d in range(3) if n[d] > 1]
        self.dims = [d + 1 for d in range(3) if n[d] > 1]  # axes of the component-first (3, nx, ny, nz) array
        term._shape = lambda state: padded
        key = (n, state.mesh.dx, str(state.device))
        if key not in self._kernels:
            if len(self._kernels) >= 8:
                self._kernels.pop(next(iter(self._kernels)))
            self._kernels[key] = term._init_N(state)
        N = self._kernels[key]
        self.rows = [[(b, N[a][b]) for b in range(3) if bool(N[a][b].abs().max() > 0)] for a in range(3)]

    def __call__(self, M):
        Mk = M.movedim(-1, 0)
        if self.dims:
            Mk = torch.fft.rfftn(Mk, s=self.shape, dim=self.dims)
        hk = torch.stack([sum(Nab * Mk[b] for b, Nab in row) for row in self.rows])
        if self.dims:
            hk = torch.fft.irfftn(hk, s=self.shape, dim=self.dims)[:, :self.n[0], :self.n[1], :self.n[2]]
        return hk.movedim(0, -1)


def _fft_size(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n (fast FFT lengths)."""
    size = n
    while True:
        rest = size
        for p in (2, 3, 5):
            while rest % p == 0:
                rest //= p
        if rest == 1:
            return size
        size += 1


class _Preconditioner:
    """v -> (c0 - c1 Laplacian)^-1 v per component, by FFT on the (periodically closed) grid.

    c0 = model.local_stiffness (A/m: anisotropy fields, Ms for demag, |H| of Zeeman), c1 =
    model.exchange_stiffness (2A/(mu0 Ms), A m): the curvature of the energy about a uniform state.
    Maps a torque field (A/m) to a rotation (rad) and damps the stiff short-wavelength exchange modes.
    """

    def __init__(self, model: Model):
        c0 = model.local_stiffness if model.local_stiffness > 0 else 1.0
        self.dims = [d for d in range(3) if model.n[d] > 1]
        self.s = [model.n[d] for d in self.dims]
        lap = torch.zeros((), dtype=torch.float64, device=model.m0.device)
        for d in self.dims:  # eigenvalues of the discrete Laplacian, broadcast over (nx, ny, nz, 3) spectra
            fftfreq = torch.fft.rfftfreq if d == self.dims[-1] else torch.fft.fftfreq
            freq = fftfreq(model.n[d], dtype=torch.float64, device=model.m0.device)
            shape = [1, 1, 1, 1]
            shape[d] = -1
            lap = lap + ((2 - 2 * torch.cos(2 * math.pi * freq)) / model.cell[d] ** 2).reshape(shape)
        self.kernel = (1.0 / (c0 + model.exchange_stiffness * lap)).to(model.m0.dtype)

    def __call__(self, v):
        if not self.dims:
            return v * self.kernel
        vk = torch.fft.rfftn(v, s=self.s, dim=self.dims)
        return torch.fft.irfftn(vk * self.kernel, s=self.s, dim=self.dims)


def minimise(model: Model, tol: float, max_iter: int = 200000, max_angle: float = 0.1, driven: bool = False):
    """Minimise the energy until max |m x H| < tol (A/m); driven=True finds a steady state under a current.

    Without a current: preconditioned L-BFGS on the rotation vectors of the spins (see _lbfgs).
    driven=True (model built with dynamics=True) adds the current-driven field to H; that field is
    not the gradient of an energy, so the steady state m x (H + H_drive) = 0 (which does not depend
    on the damping) is found by the Barzilai-Borwein descent of _descend. E_J in the rows stays the
    energy of the energy terms. No spin turns by more than max_angle (rad) per step: larger steps
    would carry metastable textures (skyrmions) over their energy barrier.
    Returns (m, rows) with rows of (iteration, mx, my, mz, E_J).
    """
    with threads_for(model.m0.numel() // 3):
        if driven:
            return _descend(model, tol, max_iter, max_angle)
        return _lbfgs(model, tol, max_iter, max_angle)


def _rotate(m, w):
    """m rotated by the rotation vectors w (perpendicular to m) with the Cayley map (keeps |m| = 1)."""
    w2 = (w * w).sum(-1, keepdim=True)
    return ((4 - w2) * m + 4 * torch.linalg.cross(w, m)) / (4 + w2)


def _tangent(m, v, mask):
    """The part of v perpendicular to the unit m, zero in empty cells (mask False)."""
    return (v - (m * v).sum(-1, keepdim=True) * m) * mask


def _check(it, max_iter, g_max, tol, what):
    if it == max_iter:
        raise EngineError(f"magnumnp {what} did not reach max|m x H| < {tol} A/m in {max_iter} iterations "
                          f"(reached {g_max:.3g} A/m)")


def _lbfgs(model, tol, max_iter, max_angle, memory=5):
    """Limited-memory BFGS over the rotation vectors w of the spins (Ivanov et al. 2021, LBFGS-OSO).

    The gradient of the energy (in field units) with respect to w is g = -m x H. Each step w = -B g,
    with B the two-loop L-BFGS inverse Hessian built on the exchange preconditioner (_Preconditioner)
    from the last `memory` pairs (s = w, y = g_new - g; all dropped when s.y <= 0), scaled down when a
    spin would turn by more than max_angle. Curvature pairs capture the soft collective modes of
    crowded skyrmion lattices (cores shifting together) that a plain descent creeps along for
    thousands of steps while the conductance drifts by several level gaps.
    """
    precondition = _Preconditioner(model)
    n_mag = model.mask.sum()
    m = model.m0.clone()
    h = model.field(m)
    g = -torch.linalg.cross(m, h)
    pairs, gamma, rows = [], None, []
    for it in range(max_iter + 1):
        g_max = float((g * g).sum(-1).max().sqrt())
        rows.append([it, *(m.sum((0, 1, 2)) / n_mag).tolist(), model.energy(m, h)])
        if g_max < tol:
            break
        _check(it, max_iter, g_max, tol, "relaxation")
        q, alphas = g, []
        for s, y, rho in reversed(pairs):
            alphas.append(rho * float((s * q).sum()))
            q = q - alphas[-1] * y
        r = _tangent(m, precondition(q), model.mask)
        r = r * (gamma if gamma is not None else max_angle / float((r * r).sum(-1).max().sqrt()))
        for (s, y, rho), a in zip(pairs, reversed(alphas)):
            r = r + (a - rho * float((y * r).sum())) * s
        w = -_tangent(m, r, model.mask)
        w_max = float((w * w).sum(-1).max().sqrt())
        if w_max > max_angle:
            w = w * (max_angle / w_max)
        m_new = _rotate(m, w)
        h = model.field(m_new)
        g_new = -torch.linalg.cross(m_new, h)
        y = g_new - g
        sy = float((w * y).sum())
        if sy > 0 and math.isfinite(sy):
            gamma = sy / float((y * precondition(y)).sum())
            pairs = (pairs + [(w, y, 1.0 / sy)])[-memory:]
        else:
            pairs = []
        m, g = m_new, g_new
    return m, np.array(rows)


def _descend(model, tol, max_iter, max_angle):
    """Barzilai-Borwein descent along the torque of the energy and current-driven fields.

    Each step rotates m by the semi-implicit midpoint (Cayley) map with rotation vector tau m x H_t
    (Goldfarb 2009, Abert 2014); the step tau alternates the two BB formulas and is capped at
    max_angle / max |m x H_t|.
    """
    def torque(m):
        h = model.field(m)
        return h, torch.linalg.cross(m, h + model.drive_field(m))
    m = model.m0.clone()
    h, g = torque(m)
    dm = torch.linalg.cross(m, g)
    n_mag = model.mask.sum()
    rows = []
    tau = None
    for it in range(max_iter + 1):
        g_max = float((g * g).sum(-1).max().sqrt())
        rows.append([it, *(m.sum((0, 1, 2)) / n_mag).tolist(), model.energy(m, h)])
        if g_max < tol:
            break
        _check(it, max_iter, g_max, tol, "steady-state search")
        cap = max_angle / g_max
        tau = cap if tau is None else min(tau, cap)
        m_new = _rotate(m, tau * g)
        h, g = torque(m_new)
        dm_new = torch.linalg.cross(m_new, g)
        s, y = m_new - m, dm_new - dm
        sy = float((s * y).sum())
        tau = float((s * s).sum()) / sy if it % 2 == 0 else sy / float((y * y).sum())
        tau = abs(tau) if math.isfinite(tau) and tau != 0 else cap
        m, dm = m_new, dm_new
    return m, np.array(rows)


def llg(model: Model, t_s: float, n_steps: int, settled=None, atol: float = 1e-5):
    """Integrate the LLG equation in Landau-Lifshitz form with magnum.np's RKF45 (adaptive step).

    dm/dt = -gamma0/(1 + alpha^2) [m x H + alpha m x (m x H)], H including the current-driven
    fields. m is renormalised after each of the n_steps save intervals of t_s/n_steps seconds;
    settled(m_previous, m, dt) -> bool ends the run early. Returns (m, rows) with rows of
    (t_s, mx, my, mz, E_J).
    """
    with threads_for(model.m0.numel() // 3):
        return _llg(model, t_s, n_steps, settled, atol)


def _llg(model, t_s, n_steps, settled, atol):
    mn = _magnumnp()
    gamma = model.gamma0 / (1 + model.alpha ** 2)
    damp = gamma * model.alpha

    def rhs(t, m, state):
        h = model.torque_field(m)
        mxh = torch.linalg.cross(m, h)
        dmdt = -damp * torch.linalg.cross(m, mxh)
        return dmdt - gamma * mxh if model.precess else dmdt

    solver = mn.RKF45(rhs, atol=atol, rtol=atol)
    clock = types.SimpleNamespace(_dt=0.0, _step=0)
    m, t, dt, n_mag = model.m0.clone(), 0.0, t_s / n_steps, model.mask.sum()
    rows = []
    for k in range(1, n_steps + 1):
        m_prev = m
        try:
            _, m = solver.step(t, m, k * dt - t, state=clock)
        except RuntimeError as e:  # RKF45 reports a NaN error norm this way
            raise EngineError(f"magnumnp LLG integration failed near t = {t:.4g} s: {e}") from e
        t = k * dt
        m = model.unit(m)
        avg = (m.sum((0, 1, 2)) / n_mag).tolist()
        rows.append([t, *avg, model.energy(m, model.field(m))])
        if settled is not None and settled(m_prev, m, dt):
            break
    return m, np.array(rows)


SINGLE_PRECISION_TOL = 100.0  # A/m; float32 rounds the exchange field (~1e7 A/m at 2 nm cells) to about 1 A/m


def relax(system: mm.System, *, tol: float, timeout_s: float | None = None):
    """engine.relax on magnum.np: (unit m as an (nx, ny, nz, 3) array, table). timeout_s is unused.

    A tolerance of SINGLE_PRECISION_TOL or more runs in float32 (about 1.7x faster), far above its
    rounding error; tighter ones in float64. m comes back in float64, renormalised.
    """
    model = Model(system)
    m, rows = minimise(model.single() if tol >= SINGLE_PRECISION_TOL else model, tol)
    return model.unit(m.double()).cpu().numpy(), pd.DataFrame(rows, columns=TABLE_COLUMNS)


def steady_state(system: mm.System, *, sot, tol: float, max_time_s: float | None = None,
                 timeout_s: float | None = None):
    """engine.steady_state on magnum.np by the driven descent of minimise; max_time_s and timeout_s are unused."""
    m, rows = minimise(Model(system, sot=sot, dynamics=True), tol, driven=True)
    return m.cpu().numpy(), pd.DataFrame(rows, columns=TABLE_COLUMNS)


def evolve(system: mm.System, *, t_s: float, n_steps: int, sot=None, settled=None, timeout_s: float | None = None):
    """engine.evolve on magnum.np: (unit m as an (nx, ny, nz, 3) array, table). timeout_s is unused."""
    m, rows = llg(Model(system, sot=sot, dynamics=True), t_s, n_steps, settled)
    return m.cpu().numpy(), pd.DataFrame(rows, columns=TABLE_COLUMNS)


def thermal_evolve(system: mm.System, *, t_s: float, dt_s: float, n_samples: int, seed: int,
                   timeout_s: float | None = None):
    """engine.thermal on magnum.np: (unit m (nx, ny, nz, 3), table, m_z samples (n_samples, nx, ny, nz) float32).

    Stochastic LLG at system.T: the effective field of the energy terms plus magnum.np's ThermalField (Brown's
    field, variance 2 alpha k_B T / (gamma0 mu0 Ms V_cell dt) per component, drawn once per step), integrated by
    magnum.np's Heun at the fixed step dt_s (Stratonovich), m renormalised after each step; a sample (m_z and a
    table row) every t_s / n_samples. timeout_s is unused.
    """
    model = Model(system, dynamics=True)
    with threads_for(model.m0.numel() // 3):
        return _thermal(model, float(system.T), t_s, dt_s, n_samples, seed)


def _thermal(model, temperature_K, t_s, dt_s, n_samples, seed):
    mn = _magnumnp()
    torch.manual_seed(seed)
    state = model.state
    state.material["alpha"] = model.alpha  # "Ms" is there already
    state.T = temperature_K
    thermal = mn.ThermalField()
    gamma = model.gamma0 / (1 + model.alpha ** 2)
    damp = gamma * model.alpha

    def rhs(s):
        h = model.field(s.m) + thermal.h(s)  # the thermal draw is held for both Heun stages (same s._step)
        mxh = torch.linalg.cross(s.m, h)
        dmdt = -damp * torch.linalg.cross(s.m, mxh)
        return dmdt - gamma * mxh if model.precess else dmdt

    heun = mn.Heun(rhs, dt=dt_s)
    steps_per_sample = max(1, round(t_s / n_samples / dt_s))
    state.m, state.t, state._step = model.m0.clone(), 0.0, 0
    n_mag, rows, samples = model.mask.sum(), [], []
    for _ in range(n_samples):
        for _ in range(steps_per_sample):
            heun.step(state, dt_s)
            state.m = model.unit(state.m) * model.mask
        m = state.m
        rows.append([state.t, *(m.sum((0, 1, 2)) / n_mag).tolist(), model.energy(m, model.field(m))])
        samples.append(m[..., 2].float().cpu().numpy())
    return m.cpu().numpy(), pd.DataFrame(rows, columns=TABLE_COLUMNS), np.stack(samples)
