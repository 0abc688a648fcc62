# Rules of the dream stage.
