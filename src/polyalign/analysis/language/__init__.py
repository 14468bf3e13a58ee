"""Response language of evaluation runs (`polyalign analyze language`)."""
