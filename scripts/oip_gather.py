"""Rule oip_gather_{layer}: each map's OIP as an array, and the layer's summary table."""

from cnnlens import runtime

inputs, output = snakemake.input, snakemake.output  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    from cnnlens.oip import results

    result = results.gather_chunks(inputs.chunks)
    results.save_layer(result, output.maps, output.summary)
    log.info("%s: %s", result.layer, results.layer_counts(result))
