"""Engine layer: magnum.np translation against magnum.np's own terms and analytic physics, SOT, errors,
cache, OOMMF MIF writing; cross-engine comparisons where OOMMF is installed."""
import math
import os
import time

os.environ.setdefault("TORCHDYNAMO_DISABLE", "1")

import discretisedfield as df  # noqa: E402
import micromagneticmodel as mm  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

from devices import engine, magnumnp_engine, measure, oommf_engine  # noqa: E402
from devices.engine import SOT, EngineError  # noqa: E402

MU0, HBAR, E_CHARGE = 4e-7 * math.pi, 1.0545718e-34, 1.602176487e-19
MS, A, KU = 5.8e5, 1.5e-11, 8e5
K_EFF = KU - MU0 * MS ** 2 / 2  # thin-film effective anisotropy: demag folded into K (J/m^3)
HAS_OOMMF = "oommf" in engine.available_engines()
NO_OOMMF = "OOMMF not installed (no OOMMFTCL, no `oommf` on PATH, no conda-forge oommf)"


def disk_system(D=3e-3, core_radius=10e-9):
    """Reference problem: 100 nm disk, 1 nm thick, 2x2x1 nm cells, reversed core of core_radius."""
    R = 50e-9
    mesh = df.Mesh(p1=(-R, -R, 0), p2=(R, R, 1e-9), cell=(2e-9, 2e-9, 1e-9))
    system = mm.System(name="disk")
    system.energy = (mm.Exchange(A=A) + mm.DMI(D=D, crystalclass="Cnv_z")
                     + mm.UniaxialAnisotropy(K=KU, u=(0, 0, 1)) + mm.Demag())
    system.m = df.Field(mesh, nvdim=3, value=lambda p: (0, 0, -1) if p[0] ** 2 + p[1] ** 2 < core_radius ** 2 else (0, 0, 1),
                        norm=lambda p: MS if p[0] ** 2 + p[1] ** 2 <= R ** 2 else 0)
    return system


def chain_system(D=0.0, n=200, cell=1e-9, K=K_EFF):
    """1D chain along x with an up|down wall in the middle; demag replaced by K (no Demag term)."""
    L = n * cell
    mesh = df.Mesh(p1=(0, 0, 0), p2=(L, cell, cell), cell=(cell, cell, cell))
    system = mm.System(name="chain")
    system.energy = mm.Exchange(A=A) + mm.UniaxialAnisotropy(K=K, u=(0, 0, 1))
    if D:
        system.energy += mm.DMI(D=D, crystalclass="Cnv_z")
    system.m = df.Field(mesh, nvdim=3, value=lambda p: (0.3, 0.3, 1) if p[0] < L / 2 else (0.3, 0.3, -1), norm=MS)
    return system


def strip_system(L=64e-9, W=8e-9, D=0.5e-3, alpha=0.3):
    """DW strip (DW activation material), up|down wall at L/2, demag included."""
    mesh = df.Mesh(p1=(0, 0, 0), p2=(L, W, 1e-9), cell=(2e-9, 2e-9, 1e-9))
    system = mm.System(name="strip")
    system.energy = (mm.Exchange(A=A) + mm.DMI(D=D, crystalclass="Cnv_z")
                     + mm.UniaxialAnisotropy(K=KU, u=(0, 0, 1)) + mm.Demag())
    system.dynamics = mm.Precession(gamma0=mm.consts.gamma0) + mm.Damping(alpha=alpha)
    system.m = df.Field(mesh, nvdim=3, value=lambda p: (0.1, 0.1, 1) if p[0] < L / 2 else (0.1, 0.1, -1), norm=MS)
    return system


def well_strip_system(a=2e20):
    """strip_system with Ku(x) = KU + a (x - L/2)^2 (J/m^3, a in J/m^5): a wall under SOT settles in the well."""
    system = strip_system()
    mesh = system.m.mesh
    centre = (mesh.region.pmin[0] + mesh.region.pmax[0]) / 2
    K = df.Field(mesh, nvdim=1, value=lambda p: KU + a * (p[0] - centre) ** 2)
    system.energy = (mm.Exchange(A=A) + mm.DMI(D=0.5e-3, crystalclass="Cnv_z")
                     + mm.UniaxialAnisotropy(K=K, u=(0, 0, 1)) + mm.Demag())
    return system


def restart(system, result):
    """system with its magnetisation replaced by result.m (Ms kept)."""
    return mm.System(name=system.name, energy=system.energy, dynamics=system.dynamics,
                     m=df.Field(system.m.mesh, nvdim=3, value=result.m.array, norm=system.m.norm))


@pytest.fixture(scope="module")
def skyrmion():
    """The reference skyrmion relaxed on magnum.np, with its wall time."""
    system = disk_system()
    result = engine.relax(system, engine="magnumnp")
    return system, result


def test_auto_engine_and_torch_defaults_survive_magnumnp(skyrmion):
    assert engine.resolve_engine("auto") == ("oommf" if HAS_OOMMF else "magnumnp")
    assert torch.get_default_dtype() == torch.float32
    assert torch.get_default_device().type == "cpu"
    assert skyrmion[1].engine == "magnumnp" and skyrmion[1].version.startswith("magnum.np 2.")


@pytest.mark.parametrize("n", [(10, 6, 3), (11, 7, 1)])  # demag padded to 2n (magnum.np) or 24 x 15 (ours)
def test_fast_operator_equals_magnumnp_terms(n):
    """Probed sparse operator + FFT demag reproduce magnum.np's own fields and energies (varying Ms, K)."""
    mesh = df.Mesh(p1=(0, 0, 0), p2=(2e-9 * n[0], 2e-9 * n[1], 1e-9 * n[2]), cell=(2e-9, 2e-9, 1e-9))
    Ms = df.Field(mesh, nvdim=1, value=lambda p: 0 if p[0] < 4e-9 and p[1] < 4e-9 else 5e5 + 1e5 * p[1] / 12e-9)
    K = df.Field(mesh, nvdim=1, value=lambda p: 1e5 + 1e13 * p[0])
    system = mm.System(name="mix")
    system.energy = (mm.Exchange(A=1.1e-11) + mm.DMI(D=2e-3, crystalclass="Cnv_z")
                     + mm.DMI(D=1e-3, crystalclass="T", name="bulk")
                     + mm.UniaxialAnisotropy(K=K, u=(0, 0.6, 0.8)) + mm.Demag() + mm.Zeeman(H=(1e4, 2e4, -3e4)))
    system.m = df.Field(mesh, nvdim=3, value=np.random.default_rng(0).normal(size=(*mesh.n, 3)), norm=Ms)
    model = magnumnp_engine.Model(system)
    m = model.m0
    h = model.field(m)
    mn = magnumnp_engine._magnumnp()
    with magnumnp_engine._torch_defaults(model.dev), magnumnp_engine.threads_for(m.numel()):
        model.state.m = m
        demag = mn.DemagField()
        h_ref = sum(t.h(model.state) for t in model.local_terms) + demag.h(model.state)
        E_ref = float(sum(t.E(model.state) for t in model.local_terms) + demag.E(model.state))
    assert float((h - h_ref).abs().max()) < 1e-12 * float(h_ref.abs().max())
    assert model.energy(m, h) == pytest.approx(E_ref, rel=1e-12)
    h32 = model.single().field(m.float())  # the float32 copy used by loose relaxations
    assert h32.dtype == torch.float32 and float((h32.double() - h).abs().max()) < 1e-5 * float(h.abs().max())
    assert float(m[~model.mask.expand_as(m)].abs().max()) == 0  # empty cells stay empty


def test_preconditioner_inverts_the_uniform_state_curvature():
    """A plane wave along x comes back divided by c0 + c1 (2 - 2 cos k dx) / dx^2, c0 = 2K/(mu0 Ms) + Ms, c1 = 2A/(mu0 Ms)."""
    n, dx = (12, 5, 3), 2e-9
    mesh = df.Mesh(p1=(0, 0, 0), p2=(n[0] * dx, n[1] * dx, n[2] * 1e-9), cell=(dx, dx, 1e-9))
    system = mm.System(name="pc")
    system.energy = mm.Exchange(A=A) + mm.UniaxialAnisotropy(K=KU, u=(0, 0, 1)) + mm.Demag()
    system.m = df.Field(mesh, nvdim=3, value=(0, 0, 1), norm=MS)
    model = magnumnp_engine.Model(system)
    c0, c1 = 2 * KU / (MU0 * MS) + MS, 2 * A / (MU0 * MS)
    assert model.local_stiffness == pytest.approx(c0, rel=1e-12)
    assert model.exchange_stiffness == pytest.approx(c1, rel=1e-12)
    j = 3
    x = (np.arange(n[0]) + 0.5) * dx
    wave = np.broadcast_to(np.cos(2 * math.pi * j * x / (n[0] * dx))[:, None, None, None], (*n, 3)).copy()
    out = magnumnp_engine._Preconditioner(model)(torch.as_tensor(wave)).numpy()
    expected = wave / (c0 + c1 * (2 - 2 * math.cos(2 * math.pi * j / n[0])) / dx ** 2)
    assert np.allclose(out, expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max())


def test_lbfgs_and_bb_descent_reach_the_same_skyrmion():
    """Two independent minimisers (L-BFGS of relax, the BB descent of steady states) end in the same state."""
    model = magnumnp_engine.Model(disk_system())
    m_lbfgs, rows_lbfgs = magnumnp_engine.minimise(model, tol=1.0)
    m_bb, rows_bb = magnumnp_engine._descend(model, 1.0, 200000, 0.1)
    assert float((m_lbfgs - m_bb).abs().max()) < 1e-3
    assert rows_lbfgs[-1, -1] == pytest.approx(rows_bb[-1, -1], rel=1e-8)
    assert len(rows_lbfgs) < len(rows_bb)


@pytest.mark.parametrize("crystalclass, helix, sign", [
    ("Cnv_z", lambda kx: (np.sin(kx), 0 * kx, np.cos(kx)), -1),   # w = D (m.grad mz - mz div m) = -D k
    ("T", lambda kx: (0 * kx, np.sin(kx), np.cos(kx)), +1),        # w = D m.(curl m) = +D k
    ("D2d_z", lambda kx: (0 * kx, np.sin(kx), np.cos(kx)), -1),    # w = D m.(dm/dx x x - dm/dy x y) = -D k
])
def test_dmi_energy_follows_ubermag_definition(crystalclass, helix, sign):
    """Pins the DMI sign per class: magnum.np needs D = -D_ubermag (docs/engines.md)."""
    n, dx, D, k = 40, 1e-9, 2e-3, 2 * math.pi / 20e-9
    mesh = df.Mesh(p1=(0, 0, 0), p2=(n * dx, dx, dx), cell=(dx, dx, dx))
    x = (np.arange(n) + 0.5) * dx
    m = np.zeros((n, 1, 1, 3))
    m[:, 0, 0, :] = np.stack(helix(k * x), axis=-1)
    system = mm.System(name="helix")
    system.energy = mm.DMI(D=D, crystalclass=crystalclass)
    system.m = df.Field(mesh, nvdim=3, value=m, norm=MS)
    model = magnumnp_engine.Model(system)
    h = model.field(model.m0)
    density = (-0.5 * model.weight * model.m0 * h).sum(-1).flatten().numpy() / dx ** 3
    expected = sign * D * math.sin(k * dx) / dx  # central difference of the analytic gradient
    np.testing.assert_allclose(density[1:-1], expected, rtol=1e-9)


@pytest.mark.parametrize("D", [1e-3, -1e-3])
def test_dmi_chirality_of_relaxed_neel_wall(D):
    """ubermag Cnv_z, w = -D dtheta/dx for m = (sin theta, 0, cos theta): D > 0 -> up|down wall has m_x > 0."""
    result = engine.relax(chain_system(D=D, n=100), engine="magnumnp")
    centre = result.m.array[48:52, 0, 0, :]
    assert np.all(np.sign(centre[:, 0]) == np.sign(D)) and np.all(np.abs(centre[:, 0]) > 0.5)


def test_relaxed_skyrmion_is_inward_neel_for_positive_D(skyrmion):
    """Same pin on the skyrmion: D > 0 (ubermag) -> in-plane m points to the core in the wall."""
    system, result = skyrmion
    m = result.m.array[:, :, 0, :]
    x = system.m.mesh.region.pmin[0] + (np.arange(m.shape[0]) + 0.5) * 2e-9
    X, Y = np.meshgrid(x, x, indexing="ij")
    r = np.hypot(X, Y)
    ring = (np.abs(m[..., 2]) < 0.5) & (r < 20e-9)
    m_r = (m[..., 0] * X + m[..., 1] * Y) / r
    assert ring.sum() > 10 and m_r[ring].mean() < -0.9


def test_wall_width_matches_sqrt_A_over_Keff():
    """1D wall with K_eff = Ku - mu0 Ms^2/2 (thin-film demag as anisotropy): Delta = sqrt(A/K_eff) within 3%."""
    result = engine.relax(chain_system(), engine="magnumnp", tol=0.01)
    assert measure.dw_width(result.m) == pytest.approx(math.sqrt(A / K_EFF), rel=0.03)
    assert measure.dw_position(result.m) == pytest.approx(100e-9, abs=1e-9)


def test_reference_skyrmion_radius(skyrmion):
    """100 nm disk, D = 3 mJ/m^2: radius 7.255 nm (OOMMF reference) within 2%, in seconds."""
    system, result = skyrmion
    radius = measure.skyrmion_radius(result.m)
    print(f"magnum.np skyrmion relaxation: {result.wall_s:.2f} s, {len(result.table)} iterations, "
          f"radius {radius * 1e9:.4f} nm")
    assert radius == pytest.approx(7.255e-9, rel=0.02)
    assert result.wall_s < 60
    assert result.table["E_J"].iloc[-1] < result.table["E_J"].iloc[0]


def test_relaxed_skyrmion_topological_charge(skyrmion):
    """Q over the disk interior (the canted free edge excluded) within 0.05 of -1 (core down, see measure)."""
    _, result = skyrmion
    interior = ((-40e-9, -40e-9, 0), (40e-9, 40e-9, 1e-9))
    assert measure.topological_charge(result.m, interior) == pytest.approx(-1, abs=0.05)
    assert measure.skyrmion_count(result.m) == 1


def one_d_model_displacement(t_s, J, theta, alpha, D, width):
    """Wall displacement (m) from the 1D (q, phi) model of a Neel wall under SOT (Thiaville 2012, Emori 2013).

    alpha q'/Delta + phi' = gamma0 H_z,eff, H_z,eff = -(pi/2) H_SH cos(phi) (the SOT field
    H_SH (m_z, 0, -m_x) for p = +y projected on the wall's translation mode);
    q'/Delta - alpha phi' = (pi/2) gamma0 H_D sin(phi), H_D = D / (mu0 Ms Delta), the restoring torque
    towards phi = 0, the DMI-preferred wall with m_x > 0 (ubermag D > 0, up|down along +x).
    """
    gamma0 = mm.consts.gamma0
    H_sh = theta * HBAR * J / (2 * E_CHARGE * MU0 * MS * 1e-9)
    H_d = D / (MU0 * MS * width)

    def rhs(t, y):
        a = gamma0 * -(math.pi / 2) * H_sh * math.cos(y[1])          # alpha q'/Delta + phi'
        b = (math.pi / 2) * gamma0 * H_d * math.sin(y[1])            # q'/Delta - alpha phi'
        qdot = (alpha * a + b) / (1 + alpha ** 2) * width
        phidot = (a - alpha * b) / (1 + alpha ** 2)
        return [qdot, phidot]
    return solve_ivp(rhs, (0, t_s), [0.0, 0.0], rtol=1e-8).y[0, -1]


@pytest.fixture(scope="module")
def relaxed_strip():
    system = strip_system()
    return restart(system, engine.relax(system, engine="magnumnp"))


@pytest.mark.parametrize("J", [4e11, -4e11])
def test_sot_drives_wall_like_the_1d_model(relaxed_strip, J):
    """SOT (theta_SH = 0.1, p = +y) moves the Neel wall as the 1D model says (direction exactly, size within 20%)."""
    t_s = 0.1e-9
    x0 = measure.dw_position(relaxed_strip.m)
    width = measure.dw_width(relaxed_strip.m)
    start = time.perf_counter()
    result = engine.evolve(relaxed_strip, t_s=t_s, n_steps=4, engine="magnumnp", sot=SOT(J, 0.1),
                           stop_velocity_m_per_s=1.0)
    print(f"magnum.np SOT run, {t_s * 1e9} ns, {relaxed_strip.m.mesh.n} cells: {time.perf_counter() - start:.1f} s")
    moved = measure.dw_position(result.m) - x0
    expected = one_d_model_displacement(t_s, J, 0.1, 0.3, 0.5e-3, width)
    assert len(result.table) == 4  # a moving wall never counts as settled
    assert np.sign(moved) == np.sign(expected) == -np.sign(J)
    assert moved == pytest.approx(expected, rel=0.2)


def test_evolve_stops_early_when_settled(relaxed_strip):
    result = engine.evolve(relaxed_strip, t_s=0.05e-9, n_steps=5, engine="magnumnp", stop_velocity_m_per_s=1.0)
    assert len(result.table) == 1
    assert list(result.table.columns) == engine.TABLE_COLUMNS
    assert result.table["t_s"].iloc[0] == pytest.approx(1e-11)


@pytest.fixture(scope="module")
def relaxed_well():
    system = well_strip_system()
    return restart(system, engine.relax(system, engine="magnumnp"))


def test_steady_state_is_where_the_llg_dynamics_settles(relaxed_well):
    """The driven descent lands where LLG under the same current comes to rest (within 0.2 nm); the
    fixed point does not depend on the damping, so the LLG run uses alpha = 1 to settle sooner."""
    x0 = measure.dw_position(relaxed_well.m)
    steady = engine.steady_state(relaxed_well, sot=SOT(-2e11, 0.1), tol=0.1, engine="magnumnp")
    damped = mm.System(name="well", energy=relaxed_well.energy, m=relaxed_well.m,
                       dynamics=mm.Precession(gamma0=mm.consts.gamma0) + mm.Damping(alpha=1.0))
    llg = engine.evolve(damped, t_s=1.5e-9, n_steps=15, engine="magnumnp", sot=SOT(-2e11, 0.1))
    assert measure.dw_position(steady.m) - x0 > 3e-9  # the current holds the wall well away from rest
    assert measure.dw_position(steady.m) == pytest.approx(measure.dw_position(llg.m), abs=0.2e-9)
    assert np.abs(steady.m.array - llg.m.array).max() < 0.02


def test_oommf_sot_emulation_gives_the_same_torque(relaxed_strip):
    """The Slonczewski term written for OOMMF (Lambda = 1, P = |theta|, mp = -sign(theta) p) has the SOT field."""
    sot = SOT(3e11, -0.07, (0.0, 1.0, 0.0))
    m = torch.as_tensor(np.random.default_rng(1).normal(size=(*relaxed_strip.m.mesh.n, 3)))
    m = m / m.norm(dim=-1, keepdim=True)
    native = magnumnp_engine.Model(relaxed_strip, sot=sot, dynamics=True).torque_field(m)
    emulated = magnumnp_engine.Model(oommf_engine.with_sot(relaxed_strip, sot), dynamics=True).torque_field(m)
    assert float((native - emulated).abs().max()) < 1e-9 * float(native.abs().max())
    no_current = magnumnp_engine.Model(relaxed_strip, dynamics=True).torque_field(m)
    assert float((native - no_current).abs().max()) > 1e3  # the SOT field is there (A/m)


def test_oommf_mif_is_written_without_oommf(tmp_path):
    system = strip_system()
    relax_mif = oommf_engine.write_mif(system, tmp_path / "relax", driver="relax", tol=0.01).read_text()
    assert "Specify Oxs_MinDriver" in relax_mif and "stopping_mxHxm 0.01" in relax_mif
    assert "Oxs_DMI_Cnv_z" in relax_mif and "0.0005" in relax_mif and "Oxs_Demag" in relax_mif
    evolve_mif = oommf_engine.write_mif(oommf_engine.with_sot(system, SOT(2e11, 0.1)), tmp_path / "evolve",
                                        driver="evolve", t_s=1e-10, n_steps=4).read_text()
    for line in ("Specify Oxs_SpinXferEvolve", "J 200000000000.0", "P 0.1", "Lambda 1.0", "eps_prime 0.0",
                 "mp {0.0 -1.0 0.0}", "alpha 0.3", "stopping_time 2.5e-11", "stage_count 4"):
        assert line in evolve_mif
    assert (tmp_path / "evolve" / "m0.omf").is_file()


def _fake_boxsi(args, cwd, timeout_s, env=None):
    """Stand-in for OOMMF's boxsi: echoes m0.omf as every saved state and writes a matching .odt table."""
    text = open(os.path.join(cwd, args[2])).read()
    name = args[2][:-4]
    m0 = df.Field.from_file(os.path.join(cwd, "m0.omf"))
    if "Oxs_TimeDriver" in text:
        n = int(text.split("stage_count")[1].split()[0])
        t = float(text.split("stopping_time")[1].split()[0])
        evolver = "SpinXferEvolve" if "Oxs_SpinXferEvolve" in text else "RungeKuttaEvolve"
        columns = (f"{{Oxs_{evolver}:evolver:Total energy}} Oxs_TimeDriver::Iteration "
                   "{Oxs_TimeDriver::Simulation time} Oxs_TimeDriver::mx Oxs_TimeDriver::my Oxs_TimeDriver::mz")
        rows = [f"-1e-18 {10 * (k + 1)} {t * (k + 1)} 0 0 0.5" for k in range(n)]
        files = [f"{name}-Oxs_TimeDriver-Magnetization-{k:02d}-{10 * (k + 1):07d}.omf" for k in range(n)]
    else:
        columns = "{Oxs_CGEvolve:evolver:Total energy} Oxs_MinDriver::Iteration Oxs_MinDriver::mx Oxs_MinDriver::my Oxs_MinDriver::mz"
        rows, files = ["-2e-18 42 0 0 0.9"], [f"{name}-Oxs_MinDriver-Magnetization-00-0000042.omf"]
    for f in files:
        m0.to_file(os.path.join(cwd, f))
    units = " ".join(["J"] + ["{}"] * (len(columns.split(" ")) - 1))
    with open(os.path.join(cwd, f"{name}.odt"), "w") as f:
        f.write("# ODT 1.0\n# Table Start\n# Title: fake\n# Columns: " + columns + "\n# Units: " + units + "\n")
        f.write("\n".join(rows) + "\n# Table End\n")


def test_oommf_plumbing_with_a_stand_in_for_boxsi(monkeypatch):
    """MIF -> run -> .omf/.odt -> Result, without OOMMF: boxsi is replaced by _fake_boxsi."""
    monkeypatch.setattr(oommf_engine, "command", lambda: ["oommf"])
    monkeypatch.setattr(oommf_engine, "version", lambda: "OOMMF stand-in")
    monkeypatch.setattr(oommf_engine, "_env", lambda: {})
    monkeypatch.setattr(oommf_engine, "_call", _fake_boxsi)
    system = strip_system()
    relaxed = engine.relax(system, engine="oommf")
    assert relaxed.engine == "oommf" and relaxed.table.to_dict("records") == [
        {"t_s": 42, "mx": 0.0, "my": 0.0, "mz": 0.9, "E_J": -2e-18}]
    np.testing.assert_allclose(np.linalg.norm(relaxed.m.array, axis=-1), 1)
    run = engine.evolve(system, t_s=1e-10, n_steps=4, engine="oommf", sot=SOT(1e11, 0.1))
    np.testing.assert_allclose(run.table["t_s"], [2.5e-11, 5e-11, 7.5e-11, 1e-10])
    settled = engine.evolve(system, t_s=1e-10, n_steps=20, engine="oommf", stop_velocity_m_per_s=1.0)
    assert len(settled.table) == 1  # the stand-in never moves: settled after the first saved step


def test_oommf_runs_are_stopped_at_the_timeout(monkeypatch, tmp_path):
    monkeypatch.setattr(oommf_engine, "_require", lambda: ["sleep"])
    start = time.perf_counter()
    with pytest.raises(EngineError, match="timed out after 0.5 s"):
        oommf_engine._call(["30"], tmp_path, 0.5)
    assert time.perf_counter() - start < 10


def test_oommf_absent_is_a_clear_error():
    if HAS_OOMMF:
        pytest.skip("OOMMF is installed here")
    with pytest.raises(EngineError, match="OOMMF"):
        engine.resolve_engine("oommf")
    assert engine.available_engines() == ["magnumnp"]


def tiny_system():
    mesh = df.Mesh(p1=(0, 0, 0), p2=(8e-9, 4e-9, 1e-9), cell=(2e-9, 2e-9, 1e-9))
    system = mm.System(name="tiny")
    system.energy = mm.Exchange(A=A) + mm.UniaxialAnisotropy(K=KU, u=(0, 0, 1))
    system.m = df.Field(mesh, nvdim=3, value=(0.2, 0, 1), norm=MS)
    return system


@pytest.mark.parametrize("change, match", [
    (lambda s: setattr(s, "energy", s.energy + mm.MagnetoElastic(B1=1e7, B2=1e7, e_diag=(0, 0, 0),
                                                                   e_offdiag=(0, 0, 0))), "MagnetoElastic"),
    (lambda s: setattr(s, "energy", s.energy + mm.RKKY(sigma=-1e-4, subregions=["a", "b"])), "RKKY"),
    (lambda s: setattr(s, "energy", mm.Exchange(A={"r1": 1e-11})), "dict"),
    (lambda s: setattr(s, "energy", mm.UniaxialAnisotropy(K1=1e5, K2=1e4, u=(0, 0, 1))), "K2"),
    (lambda s: setattr(s, "m", df.Field(s.m.mesh, nvdim=3, value=(0, 0, 1), norm=0)), "without magnetic cells"),
    (lambda s: setattr(s, "energy", 0), "no terms"),
])
def test_bad_descriptions_raise_engine_error(change, match):
    system = tiny_system()
    change(system)
    with pytest.raises(EngineError, match=match):
        engine.relax(system, engine="magnumnp")


def test_zero_cell_size_and_unknown_engine_raise(monkeypatch):
    system = tiny_system()
    with pytest.raises(EngineError, match="mumax3"):
        engine.relax(system, engine="mumax3")
    # discretisedfield refuses to build such a mesh; one read from elsewhere could still report it
    monkeypatch.setattr(df.Mesh, "cell", property(lambda self: np.array([2e-9, 0.0, 1e-9])))
    with pytest.raises(EngineError, match=r"cell size \(2e-09, 0.0, 1e-09\)"):
        engine.relax(system, engine="magnumnp")


def test_cache_hit_does_not_rerun(tmp_path, monkeypatch):
    system = tiny_system()
    first = engine.relax(system, engine="magnumnp", cache_dir=tmp_path)
    assert not first.cached and len(list(tmp_path.iterdir())) == 1

    def no_run(*args, **kwargs):
        raise AssertionError("simulated although cached")
    monkeypatch.setattr(magnumnp_engine, "relax", no_run)
    second = engine.relax(system, engine="magnumnp", cache_dir=tmp_path)
    assert second.cached and second.wall_s == first.wall_s
    np.testing.assert_array_equal(second.m.array, first.m.array)
    assert second.table.equals(first.table)
    assert [p.suffix for p in tmp_path.iterdir()] == [".pkl"]  # no temporary file left behind
    system.energy = mm.Exchange(A=1.2e-11) + mm.UniaxialAnisotropy(K=KU, u=(0, 0, 1))
    with pytest.raises(AssertionError, match="simulated"):
        engine.relax(system, engine="magnumnp", cache_dir=tmp_path)  # changed A: a miss


@pytest.mark.skipif(not HAS_OOMMF, reason=NO_OOMMF)
def test_oommf_and_magnumnp_agree_on_the_reference_skyrmion(skyrmion):
    system, mnp = skyrmion
    ref = engine.relax(system, engine="oommf", tol=0.01)
    assert measure.skyrmion_radius(ref.m) == pytest.approx(7.255e-9, rel=0.005)
    assert measure.skyrmion_radius(mnp.m) == pytest.approx(measure.skyrmion_radius(ref.m), rel=0.005)
    assert np.abs(ref.m.array - mnp.m.array).max() < 1e-2


@pytest.mark.skipif(not HAS_OOMMF, reason=NO_OOMMF)
def test_oommf_and_magnumnp_move_the_wall_alike(relaxed_strip):
    x0 = measure.dw_position(relaxed_strip.m)
    moved = {name: measure.dw_position(engine.evolve(relaxed_strip, t_s=0.1e-9, n_steps=4, engine=name,
                                                     sot=SOT(4e11, 0.1)).m) - x0
             for name in ("oommf", "magnumnp")}
    assert moved["magnumnp"] == pytest.approx(moved["oommf"], rel=0.05)


@pytest.mark.skipif(not HAS_OOMMF, reason=NO_OOMMF)
def test_oommf_and_magnumnp_agree_on_the_wall_width():
    widths = {name: measure.dw_width(engine.relax(chain_system(), engine=name, tol=0.01).m)
              for name in ("oommf", "magnumnp")}
    assert widths["oommf"] == pytest.approx(math.sqrt(A / K_EFF), rel=0.03)
    assert widths["magnumnp"] == pytest.approx(widths["oommf"], rel=0.02)


@pytest.mark.skipif(not HAS_OOMMF, reason=NO_OOMMF)
def test_oommf_and_magnumnp_move_the_skyrmion_alike(skyrmion):
    """Same SOT pulse on the reference skyrmion: displacement vectors agree within 5 % of their length."""
    system, relaxed = skyrmion
    moving = restart(system, relaxed)
    moving.dynamics = mm.Precession(gamma0=mm.consts.gamma0) + mm.Damping(alpha=0.3)
    inner = ((-40e-9, -40e-9, 0), (40e-9, 40e-9, 1e-9))
    start = np.array(measure.skyrmion_centre(relaxed.m, inner))
    shift = {name: np.array(measure.skyrmion_centre(engine.evolve(moving, t_s=0.2e-9, n_steps=2, engine=name,
                                                                  sot=SOT(3e11, 0.1)).m, inner)) - start
             for name in ("oommf", "magnumnp")}
    assert np.linalg.norm(shift["oommf"]) > 2e-9
    assert np.linalg.norm(shift["magnumnp"] - shift["oommf"]) < 0.05 * np.linalg.norm(shift["oommf"])


@pytest.mark.skipif(not HAS_OOMMF, reason=NO_OOMMF)
def test_oommf_and_magnumnp_find_the_same_steady_state(relaxed_well):
    x0 = measure.dw_position(relaxed_well.m)
    moved = {name: measure.dw_position(engine.steady_state(relaxed_well, sot=SOT(-2e11, 0.1), tol=0.1,
                                                           engine=name).m) - x0
             for name in ("oommf", "magnumnp")}
    assert moved["magnumnp"] == pytest.approx(moved["oommf"], rel=0.02)


def langevin(x):
    """<cos theta> of a classical moment in a field at mu H / k_B T = x: coth x - 1 / x."""
    return 1 / math.tanh(x) - 1 / x


def macrospin_gas(n=2000, H=8.0e5, T=300.0, alpha=0.5):
    """n uncoupled 2 nm cubes (no exchange, no demag) in a field H along z at T: n independent macrospins."""
    mesh = df.Mesh(p1=(0, 0, 0), p2=(n * 2e-9, 2e-9, 2e-9), cell=(2e-9, 2e-9, 2e-9))
    system = mm.System(name="gas", T=T)
    system.energy = mm.Zeeman(H=(0, 0, H))
    system.dynamics = mm.Precession(gamma0=mm.consts.gamma0) + mm.Damping(alpha=alpha)
    system.m = df.Field(mesh, nvdim=3, value=(0, 0, 1), norm=1e6)
    return system


def test_thermal_field_gives_the_boltzmann_statistics_of_a_macrospin(tmp_path):
    """Fluctuation-dissipation: with Brown's field the moments reach exp(mu0 Ms V H cos(theta) / k_B T); <m_z> is
    Langevin's function of x = mu0 Ms V H / k_B T (1.94 here) and <m_x^2> = L(x) / x, each within 3 %
    (2000 moments x 40 samples 25 ps apart, after 200 ps; relaxation time 1 / (alpha gamma0 H) = 11 ps)."""
    system = macrospin_gas()
    x = MU0 * 1e6 * 8e-27 * 8.0e5 / (1.380649e-23 * 300.0)
    burn = engine.thermal(system, t_s=200e-12, dt_s=2e-14, n_samples=1, seed=1, engine="magnumnp")
    system.m = df.Field(system.m.mesh, nvdim=3, value=burn.m.array, norm=1e6)
    run = engine.thermal(system, t_s=1e-9, dt_s=2e-14, n_samples=40, seed=2, engine="magnumnp", cache_dir=tmp_path)
    mz = run.mz_samples.ravel()
    assert run.mz_samples.shape == (40, 2000, 1, 1)
    assert mz.mean() == pytest.approx(langevin(x), rel=0.03)
    assert (1 - mz ** 2).mean() / 2 == pytest.approx(langevin(x) / x, rel=0.03)  # <m_x^2> = <m_y^2>
    assert run.table["mz"].mean() == pytest.approx(mz.mean(), rel=1e-5)
    again = engine.thermal(system, t_s=1e-9, dt_s=2e-14, n_samples=40, seed=2, engine="magnumnp", cache_dir=tmp_path)
    assert again.cached and np.array_equal(again.mz_samples, run.mz_samples)


def test_thermal_runs_need_a_temperature_and_relax_refuses_one():
    system = macrospin_gas(n=4)
    with pytest.raises(EngineError, match="relax, steady_state and evolve are at T = 0"):
        engine.relax(system, engine="magnumnp")
    system.T = 0
    with pytest.raises(EngineError, match="a thermal run needs system.T > 0"):
        engine.thermal(system, t_s=1e-12, dt_s=1e-14, n_samples=1, engine="magnumnp")
