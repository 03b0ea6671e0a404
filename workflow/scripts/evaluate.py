"""Rule evaluate: sample quality (Frechet distances, KID) and energy per image of one trained DCGAN (hardware variant:
energy.csv, and in metrics.json the two energy totals per image for testing and training, the array cycles per
generated image, the tiles' utilisation, and the tiles table of the generator)."""
import json
import time
from pathlib import Path

import pandas as pd

from system import classifier, crossbar, energy, inception, metrics, train
from system.data import load_images, reference_images
from pipeline.io import write_csv, write_json
from system.tables import load_device_tables
from workflow.rule_log import log_to

log_to(snakemake.log[0])
params = snakemake.params
data_dir = snakemake.config["data_dir"]  # checked before any job (workflow/config_check.py)
setup = json.loads(Path(snakemake.input.setup).read_text())
dataset, variant = snakemake.wildcards.dataset, snakemake.wildcards.variant
n = params.metrics["n_samples"]
outdir = Path(params.outdir)

start = time.perf_counter()
fake = train.generate(outdir, n, seed=params.seed + 1)
generation_images_per_s = len(fake) / (time.perf_counter() - start)  # compilation included
real = reference_images(dataset, data_dir, n)

classifier_params = classifier.load_classifier(Path(snakemake.input.classifier))
# Anime Face: the substitute where no Inception weights are, the same classifier on 28x28 luma (README)
feature_fns = {"classifier": lambda images: classifier.dataset_features(classifier_params, images)}
fid_missing = None
try:  # the configured path, else the torch hub cache; never downloaded
    inception_path = params.metrics.get("inception_weights")
    feature_fns["inception"] = inception.load_fid_inception(Path(inception_path) if inception_path else None)
except FileNotFoundError as error:
    fid_missing = str(error)
scores = metrics.evaluate_samples(real, fake, feature_fns, subset_size=min(1000, n // 2), seed=params.seed)

hardware = train.load_generator(outdir)[2]["hardware"]
non_idealities = (crossbar.non_idealities(crossbar.CrossbarConfig(**hardware["crossbar"]))
                  if hardware and hardware.get("synapses", True) else None)
breakdown = pd.DataFrame(columns=["phase", *energy.COLUMNS])
energy_metrics = {}
if variant == "hardware":  # the float baseline and the ablations have no device energy model
    tables = load_device_tables(Path(params.tables_dir), params.network_lrelu_curvature_ratio)
    train_images = load_images(dataset, data_dir, limit=setup["system"]["max_train_images"])  # as the train rule
    energy_config = energy.EnergyConfig.from_config(params.crossbar, params.energy)
    test, training, tiles = energy.run_energy(outdir, tables, energy_config, train_images)
    breakdown = pd.concat([test.assign(phase="test"), training.assign(phase="train")])[breakdown.columns]
    for phase, frame in (("test", test), ("train", training)):
        for total, joules in energy.totals(frame).items():  # NaN: a missing device energy
            energy_metrics[f"{phase}_energy_{total}_J_per_image"] = joules
    energy_metrics.update({f"test_{k}": v for k, v in energy.utilisation(tiles).items()})
    energy_metrics["test_tiles"] = tiles.to_dict("records")
write_csv(Path(snakemake.output.energy), breakdown)

write_json(Path(snakemake.output.metrics), {
    "dataset": dataset, "variant": variant, "n_samples": int(len(fake)),
    "fid": scores.get("inception", {}).get("frechet_distance"),
    "fid_skipped_because": fid_missing,
    "inception_kid": scores.get("inception", {}).get("kid_mean"),
    "classifier_fd": scores.get("classifier", {}).get("frechet_distance"),
    "classifier_kid": scores.get("classifier", {}).get("kid_mean"),
    "classifier_kid_std": scores.get("classifier", {}).get("kid_std"),
    **energy_metrics,
    "train_images_per_s": train.training_throughput(Path(snakemake.input.history), setup["system"]["batch_size"]),
    "generation_images_per_s": generation_images_per_s,
    "scores": scores,
    "non_idealities": non_idealities,
})
