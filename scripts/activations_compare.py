"""Rule compare_classes: two classes compared on one layer (class means, difference, effect
sizes) as a figure, and every map or node ranked by how well it separates them."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
wildcards = snakemake.wildcards  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    from cnnlens import activations
    from cnnlens.files import write_csv
    from cnnlens.plotting.activations import plot_comparison

    statistics = activations.load_class_statistics(inputs.statistics)
    first, second = int(wildcards.first), int(wildcards.second)
    comparison = activations.compare_classes(statistics, wildcards.layer, first, second)
    rows = activations.ranking_rows(comparison)
    write_csv(outputs.ranking, rows)
    plot_comparison(
        comparison,
        activations.GridSettings.from_config(params.grid),
        params.difference_colormap,
        params.top,
        outputs.figure,
    )
    log.info("%s, %d vs %d: best separating %s", wildcards.layer, first, second, rows[0])
