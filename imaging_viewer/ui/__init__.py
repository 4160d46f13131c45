"""Qt user interface: observes core models and draws them."""
