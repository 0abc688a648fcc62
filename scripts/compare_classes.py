"""Rule compare_classes: two classes compared on every configured layer (class means,
difference, effect sizes as a figure; every map or node ranked in a table), and how well
each layer separates them (one figure and one table for all layers). Needs no TensorFlow."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
wildcards = snakemake.wildcards  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    from cnnlens import settings
    from cnnlens.activations.comparison import compare_layers, ranking_rows, separation_rows
    from cnnlens.activations.statistics import load_class_statistics
    from cnnlens.files import write_csv
    from cnnlens.plotting.comparison import plot_comparison, plot_separation

    layout = settings.build(settings.GridLayout, params.grid)
    compare = settings.build(settings.Compare, params.compare)
    first, second = int(wildcards.first), int(wildcards.second)
    class_names = tuple(params.class_names)
    statistics = load_class_statistics(inputs.statistics)
    comparisons = compare_layers(statistics, params.layers, first, second)
    for comparison, figure, ranking in zip(
        comparisons, outputs.figures, outputs.rankings, strict=True
    ):
        rows = ranking_rows(comparison, class_names)
        write_csv(ranking, rows)
        plot_comparison(comparison, layout, compare, figure, class_names)
        log.info("%s, %d vs %d: best separating %s", comparison.layer, first, second, rows[0])
    separation = separation_rows(comparisons, compare.large_effect, class_names)
    write_csv(outputs.separation_table, separation)
    plot_separation(comparisons, compare.large_effect, outputs.separation_figure, class_names)
    for row in separation:
        log.info("%s", row)
