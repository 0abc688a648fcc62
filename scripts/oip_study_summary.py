"""Rule oip_study: the study's summary table (CSV and Markdown) and its figures. Needs no
TensorFlow."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    from cnnlens import preprocessing
    from cnnlens.files import load_arrays, read_csv, write_csv, write_text
    from cnnlens.oip_study.records import HandSeries
    from cnnlens.oip_study.scores import SCORE_COLUMNS, markdown_table, summary_rows
    from cnnlens.plotting.oip import display_range_of
    from cnnlens.plotting.oip_study import plot_hand, plot_summary, plot_variant_oips

    rows = summary_rows([read_csv(path) for path in inputs.scores], params.layers, params.variants)
    write_csv(outputs.summary, rows, SCORE_COLUMNS)
    write_text(outputs.table, markdown_table(rows))
    display_range = display_range_of(preprocessing.from_manifest(inputs.manifest))
    plot_summary(rows, outputs.figure)
    oips = [load_arrays(path) for path in inputs.oips]
    plot_variant_oips(oips, params.layers, outputs.oips, params.colormap, display_range)
    series = HandSeries.from_arrays(load_arrays(inputs.hand))
    plot_hand(series, outputs.hand, params.colormap, display_range)
