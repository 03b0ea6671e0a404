"""Rule sweep_evaluate: the trained hardware generator on the devices of one sweep value: classifier FD and KID,
and energy per image (pipeline/sweep.py)."""
from pathlib import Path

from pipeline.io import write_json
from system import classifier, energy, metrics, train
from system.crossbar import CrossbarConfig
from system.data import load_images, reference_images
from system.dcgan import Hardware
from system.tables import load_device_tables
from workflow.rule_log import log_to

log_to(snakemake.log[0])
params = snakemake.params
run_dir = Path(params.run_dir)
generator, state, config = train.load_generator(run_dir)
crossbar_config = config["system"]["crossbar"]
tables = load_device_tables(Path(snakemake.input.tables[0]).parent, params.network_lrelu_curvature_ratio,
                            thermal=crossbar_config["thermal_noise"])
hardware = Hardware.from_tables(tables, CrossbarConfig.from_config(crossbar_config, config["seed"]), "hardware")

n, dataset, data_dir = params.n_samples, config["dataset"], snakemake.config["data_dir"]
fake = train.generate((generator, state, {**config, "hardware": hardware.to_dict()}), n, seed=params.seed + 1)
real = reference_images(dataset, data_dir, n)
classifier_params = classifier.load_classifier(Path(snakemake.input.classifier))
scores = metrics.evaluate_samples(real, fake, {"classifier": lambda x: classifier.dataset_features(classifier_params, x)},
                                  subset_size=min(1000, n // 2), seed=params.seed)["classifier"]

train_images = load_images(dataset, data_dir, limit=config["system"]["max_train_images"])
test, training, _ = energy.run_energy(run_dir, tables, energy.EnergyConfig.from_config(params.crossbar, params.energy),
                                      train_images, hardware=hardware)
write_json(Path(snakemake.output[0]), {
    "parameter": params.parameter, "value": params.value, "dataset": dataset, "n_samples": int(len(fake)),
    "classifier_fd": scores["frechet_distance"], "classifier_kid": scores["kid_mean"],
    "classifier_kid_std": scores["kid_std"],
    **{f"{phase}_energy_{total}_J_per_image": joules for phase, frame in (("test", test), ("train", training))
       for total, joules in energy.totals(frame).items()},
    "levels_S": [float(g) for g in hardware.levels_S]})
