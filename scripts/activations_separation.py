"""Rule class_separation: which layer's maps or nodes separate two classes best."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
wildcards = snakemake.wildcards  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    from cnnlens import activations
    from cnnlens.files import write_csv
    from cnnlens.plotting.activations import plot_separation

    statistics = activations.load_class_statistics(inputs.statistics)
    comparisons = activations.compare_layers(
        statistics, int(wildcards.first), int(wildcards.second)
    )
    rows = activations.separation_rows(comparisons, params.large_effect)
    write_csv(outputs.summary, rows)
    plot_separation(comparisons, params.large_effect, outputs.figure)
    for row in rows:
        log.info("%s", row)
