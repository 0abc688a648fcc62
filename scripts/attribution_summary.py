"""Rule attribution_summary: the deletion curves' figure and a Markdown page linking every
selected image's attribution figure. Needs no TensorFlow."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    from cnnlens.attribution.summary import figure_paths, index_page, read_curves
    from cnnlens.files import read_csv, write_text
    from cnnlens.plotting.attribution import plot_deletion_curves

    curves = read_curves(inputs.curves)
    summary = read_csv(inputs.summary)
    areas = {row["method"]: float(row["area"]) for row in summary}
    plot_deletion_curves(curves, areas, int(summary[0]["images"]), outputs.figure)
    figures = figure_paths(inputs.figures)
    write_text(outputs.index, index_page(summary, figures, params.layer))
