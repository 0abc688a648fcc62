"""Rule training_figures: learning curves and confusion matrix from the training records."""

from cnnlens.files import read_csv, read_json
from cnnlens.plotting.training import plot_confusion, plot_training_curves
from cnnlens.runtime import script_run
from cnnlens.training_records import confusion_from_rows, history_from_rows

inputs, outputs = snakemake.input, snakemake.output  # noqa: F821 - injected by Snakemake

with script_run(snakemake.log[0]):  # noqa: F821
    accuracy = read_json(inputs.metrics)["test_accuracy"]
    plot_training_curves(history_from_rows(read_csv(inputs.history)), outputs.curves)
    plot_confusion(confusion_from_rows(read_csv(inputs.confusion)), accuracy, outputs.confusion)
