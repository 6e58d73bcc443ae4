"""zoo.layers.frequency on every Keras backend: Fourier filters on known signals,
unsharp masking of an edge, spec parsing, and a .keras save/load round trip."""

import pytest

from tests.conftest import run_child


@pytest.fixture(scope="module", params=("jax", "tensorflow", "torch"))
def results(request) -> dict:
    return run_child(request.param, "frequency:filter_checks")


def test_fourier_filters_on_known_signals(results):
    assert results["lowpass_err"] < 1e-3  # stripes gone, wave and mean kept
    assert results["highpass_err"] < 1e-3  # wave gone, stripes and mean kept
    assert results["bandpass_err"] < 1e-3  # only the wave (and the mean) pass
    assert max(results["flat_kept"]) < 1e-3  # a flat image stays flat, at its level
    for low, high in results["ranges"]:
        assert 0.0 <= low and high <= 255.0


def test_sharpening_raises_edge_contrast(results):
    before, after = results["edge_gradient"]
    assert after > 1.3 * before
    low, high = results["sharp_range"]
    assert 0.0 <= low and high <= 255.0


def test_make_image_filter_specs(results):
    assert results["parsed"] == {
        "lowpass": ["FourierFilter", {"mode": "lowpass", "cutoff": 0.25, "high_cutoff": 0.5}],
        "lowpass:0.2": ["FourierFilter", {"mode": "lowpass", "cutoff": 0.2, "high_cutoff": 0.5}],
        "highpass:0.1": ["FourierFilter", {"mode": "highpass", "cutoff": 0.1, "high_cutoff": 0.5}],
        "bandpass:0.05-0.3": [
            "FourierFilter",
            {"mode": "bandpass", "cutoff": 0.05, "high_cutoff": 0.3},
        ],
        "sharpen": ["UnsharpMask", {"amount": 1.0}],
        "sharpen:1.5": ["UnsharpMask", {"amount": 1.5}],
    }
    assert results["none"] == [True, True]
    unknown, bad_number, one_number, too_high, reversed_band = results["errors"]
    valid = "valid choices are none, lowpass[:CUTOFF], highpass[:CUTOFF], bandpass[:LOW-HIGH], sharpen[:AMOUNT]"
    assert unknown == f"image filter 'blur': {valid}"
    assert bad_number == f"image filter 'lowpass:abc': {valid}"
    assert one_number == f"image filter 'bandpass:0.3': {valid}"
    assert too_high == "FourierFilter cutoff 0.9: must be in (0, 0.5] cycles/pixel"
    assert reversed_band.startswith("FourierFilter band 0.3-0.1: need cutoff < high_cutoff")


def test_save_and_load_round_trip(results):
    assert results["reloaded_layers"] == ["FourierFilter", "UnsharpMask"]
    assert results["reloaded_config"] == ["bandpass", 0.02, 0.4, 1.5, 0.8]
    assert results["reload_err"] < 1e-4


def test_any_input_size(results):
    shape, err = results["any_size"]
    assert shape == [2, 24, 32, 3] and err < 1e-3
