"""Rule classifier: train the Fashion-MNIST classifier whose features give the classifier Frechet distance."""
from pathlib import Path

from system import classifier
from system.data import load_fashion_mnist
from pipeline.io import write_json
from workflow.rule_log import log_to

log_to(snakemake.log[0])
params = snakemake.params
data_dir = snakemake.config["data_dir"]  # checked before any job (workflow/config_check.py)
train_images, train_labels = load_fashion_mnist(data_dir, "train")
if params.train_images > 0:
    train_images, train_labels = train_images[:params.train_images], train_labels[:params.train_images]
test_images, test_labels = load_fashion_mnist(data_dir, "test")
result = classifier.train_classifier(train_images, train_labels, test_images, test_labels, epochs=params.epochs,
                                     seed=params.seed, out_path=Path(snakemake.output.weights))
write_json(Path(snakemake.output.accuracy), result)
