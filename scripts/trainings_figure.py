"""Rule trainings_figure: the OIPs of a layer's maps matched between run 0 and run k, side by
side, from the best-matched pair to the worst. Needs no TensorFlow."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
wildcards = snakemake.wildcards  # noqa: F821

with runtime.script_run(snakemake.log[0]):  # noqa: F821
    from cnnlens.files import read_csv
    from cnnlens.oip.results import gather_chunks
    from cnnlens.plotting.trainings import plot_matched_oips
    from cnnlens.trainings.matching import shown_pairs

    run = int(wildcards.run)
    rows = [row for row in read_csv(inputs.matching) if int(row["run_b"]) == run]
    searches = gather_chunks(inputs.oips_a), gather_chunks(inputs.oips_b)
    plot_matched_oips(
        wildcards.layer,
        (0, run),
        shown_pairs(rows, params.oip_pairs),
        tuple(search.oips for search in searches),
        tuple(search.dead for search in searches),
        params.colormap,
        outputs.figure,
    )
