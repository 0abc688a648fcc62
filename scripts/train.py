"""Rule train: fit the CNN on the training split, evaluate it on the test split, describe it."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    # Imported inside the log's scope, so that TensorFlow's start-up messages go to the log.
    from cnnlens import device, model, settings, training, training_records
    from cnnlens.files import load_array, write_csv, write_json, write_text

    device_name = device.prepare(snakemake.threads, params.seed)  # noqa: F821
    options = settings.build(settings.Training, params.training)
    architecture = params.architecture
    policy = training.dtype_policy(options.mixed_precision, device.has_gpu())
    log.info("training on %s with dtype policy %s", device_name, policy)
    train_images = load_array(inputs.train_imgs)
    cnn = model.build_cnn(architecture, train_images.shape[1:], options.l2, policy)
    history, seconds = training.fit(
        cnn, train_images, load_array(inputs.train_labels), options, params.seed
    )
    cnn = model.as_float32(cnn, architecture, options.l2)
    evaluation = training.evaluate(
        cnn, load_array(inputs.test_imgs), load_array(inputs.test_labels)
    )
    log.info("test accuracy %.4f after %.0f s of training", evaluation.accuracy, seconds)
    training.save_model(cnn, outputs.model)
    network = model.describe(cnn)
    write_text(outputs.summary, model.summary_text(cnn))
    write_text(outputs.network, network.to_json())
    write_text(outputs.receptive_fields, network.receptive_field_table())
    write_csv(outputs.history, history)
    metrics = training_records.metrics_record(
        evaluation, params.class_names, history, device_name, seconds
    )
    write_json(outputs.metrics, metrics)
    write_csv(outputs.confusion, training_records.confusion_rows(evaluation.confusion))
