"""Qt-free core: data, geometry in patient LPS millimetres, pixel maths."""
