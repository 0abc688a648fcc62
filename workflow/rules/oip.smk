# Rules of the oip stage.
