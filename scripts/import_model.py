"""Rule import_model: take the model of model.file as it is (no training): evaluate it on the
test split, describe it, and save it as float32 where the later stages read the model."""

import os

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    # Imported inside the log's scope, so that TensorFlow's start-up messages go to the log.
    from cnnlens import device, keras_file, model, training, training_records
    from cnnlens.files import load_array, write_csv, write_json, write_text

    device_name = device.prepare(snakemake.threads, params.seed)  # noqa: F821
    source = os.path.abspath(inputs.model)
    cnn = model.float32_copy(model.load_user_model(inputs.model))
    network = model.describe(cnn)
    keras_file.check_description(network, inputs.model)
    logits = model.gives_logits(cnn)
    evaluation = training.evaluate(
        cnn, load_array(inputs.test_imgs), load_array(inputs.test_labels), logits
    )
    log.info("imported %s: test accuracy %.4f", source, evaluation.accuracy)
    training.save_model(cnn, outputs.model)
    write_text(outputs.summary, model.summary_text(cnn))
    write_text(outputs.network, network.to_json())
    write_text(outputs.receptive_fields, network.receptive_field_table())
    metrics = training_records.imported_metrics_record(
        evaluation, params.class_names, source, keras_file.sha256(inputs.model), logits, device_name
    )
    write_json(outputs.metrics, metrics)
    write_csv(outputs.confusion, training_records.confusion_rows(evaluation.confusion))
