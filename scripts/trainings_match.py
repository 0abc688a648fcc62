"""Rule trainings_match: every conv layer's maps of run 0 matched with each further run's, by
the correlation of their activations over the test images; the summary and its table."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    # Imported inside the log's scope: TensorFlow's start-up messages go to the log.
    from cnnlens import device
    from cnnlens.files import load_array, write_csv, write_text
    from cnnlens.model import load_cnn
    from cnnlens.trainings.comparison import run_correlations
    from cnnlens.trainings.matching import (
        MATCHING_COLUMNS,
        SUMMARY_COLUMNS,
        match_runs,
        summary_table,
    )

    device_name = device.prepare(snakemake.threads)  # noqa: F821
    log.info("matching %d runs on %s", len(inputs.models), device_name)
    models = [load_cnn(path) for path in inputs.models]
    correlations = run_correlations(models, load_array(inputs.test_imgs), params.layers)
    matchings, summary = match_runs(correlations, params.layers, params.match_threshold)
    for row in summary:
        log.info("%s", row)
    for layer, path in zip(params.layers, outputs.matchings, strict=True):
        write_csv(path, matchings[layer], MATCHING_COLUMNS)
    write_csv(outputs.summary, summary, SUMMARY_COLUMNS)
    write_text(outputs.table, summary_table(summary, params.match_threshold))
