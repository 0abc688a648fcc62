"""Rule training_figures: learning curves (of a trained model) and the confusion matrix from
the model stage's records."""

from cnnlens.files import read_csv, read_json
from cnnlens.plotting.training import plot_confusion, plot_training_curves
from cnnlens.runtime import script_run
from cnnlens.training_records import confusion_from_rows, history_from_rows

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with script_run(snakemake.log[0]):  # noqa: F821
    accuracy = read_json(inputs.metrics)["test_accuracy"]
    if hasattr(outputs, "curves"):  # an imported model has no history
        plot_training_curves(history_from_rows(read_csv(inputs.history)), outputs.curves)
    confusion = confusion_from_rows(read_csv(inputs.confusion))
    plot_confusion(confusion, accuracy, outputs.confusion, params.class_names)
