"""The book's one tolerance for checked outputs: words, integers and verdicts exact; a printed real within one
unit of its last printed digit; a glued number compared as its sentence shows it."""

import os

import pytest

from data_scripts.checked_outputs import glue_formats, numbers_agree, outputs_agree


@pytest.mark.parametrize(
    "ref,test",
    [
        ("acc 0.929", "acc 0.928"),
        ("acc 0.929", "acc 0.930"),
        ("1.2e-05 and 3.0e-07", "1.3e-05 and 2.9e-07"),
        ("9.9e-08", "1.0e-07"),  # one unit across a decade
        ("-0.000", "0.000"),
        ("0.5 | 12 | 0.25", "0.5 | 12 | 0.26"),
        ("shapes/vgg_sub  0.788", "shapes/vgg_sub  0.787"),
    ],
)
def test_a_printed_real_may_move_by_one_unit_of_its_last_digit(ref, test):
    assert numbers_agree(ref, test) is None


@pytest.mark.parametrize(
    "ref,test,why",
    [
        ("acc 0.929", "acc 0.927", "moved by 0.002"),
        ("1.2e-05", "1.4e-05", "moved by"),
        ("51/93 targets", "51/92 targets", "integer 93 became 92"),
        ("verdict: reproduced", "verdict: partly", "text"),
        ("12 of 12 cells", "11 of 12 cells", "integer 12 became 11"),
        ("93%", "94%", "integer"),  # a percentage printed as an integer is a count's share: exact
        ("0.929", "0.929 0.1", "different number of parts"),
        ("digest 9ec30b10", "digest 9ec30b11", "text"),  # a hex digest is a word, not a number
    ],
)
def test_words_integers_and_larger_moves_are_refused(ref, test, why):
    assert why in numbers_agree(ref, test)


def test_a_glued_number_is_compared_as_its_sentence_shows_it():
    cells = [
        {"cell_type": "markdown", "source": "error {glue:text}`err:.1e` and {glue:text}`acc:.3f` ({glue:text}`n`)"},
        {"cell_type": "code", "source": "x = 1"},
    ]
    formats = glue_formats(cells)
    assert formats == {"err": {".1e"}, "acc": {".3f"}, "n": {""}}

    def glued(name, value):
        return [{"output_type": "display_data", "metadata": {"scrapbook": {"name": name}},
                 "data": {"application/papermill.record/text/plain": repr(value)}}]  # fmt: skip

    # full precision differs, the shown digits agree (or move by one unit)
    assert outputs_agree(glued("acc", 0.92916666), glued("acc", 0.92934), formats) == []
    assert outputs_agree(glued("err", 1.23e-5), glued("err", 1.26e-5), formats) == []
    assert outputs_agree(glued("acc", 0.9291), glued("acc", 0.9312), formats) != []
    assert outputs_agree(glued("n", 51), glued("n", 50), formats) != []  # shown as is: an integer, exact
    # a glued number no sentence shows: six significant digits
    assert outputs_agree(glued("hidden", 0.123456789), glued("hidden", 0.123457001), formats) == []
    assert outputs_agree(glued("hidden", 0.123456789), glued("hidden", 0.123470001), formats) != []


def test_streams_are_merged_and_compared_by_name():
    ref = [{"output_type": "stream", "name": "stdout", "text": "a 0.51\n"},
           {"output_type": "stream", "name": "stdout", "text": "b 2\n"}]  # fmt: skip
    same = [{"output_type": "stream", "name": "stdout", "text": "a 0.50\nb 2\n"}]
    assert outputs_agree(ref, same) == []
    stderr = [*same, {"output_type": "stream", "name": "stderr", "text": "warning\n"}]
    assert "output kinds differ" in outputs_agree(ref, stderr)[0]
    images_only_differ = [
        {"output_type": "display_data", "data": {"image/png": "AAA", "text/plain": "<Figure>"}, "metadata": {}}
    ]
    other_image = [{**images_only_differ[0], "data": {"image/png": "BBB", "text/plain": "<Figure>"}}]
    assert outputs_agree(images_only_differ, other_image) == []


def test_nbval_kernels_use_private_sockets_and_start_side_by_side():
    """nbval's kernels listen on socket files in folders of their own, so kernels started at the same moment by
    two test processes cannot take each other's addresses (over TCP they could, and one then died at start)."""
    from concurrent.futures import ThreadPoolExecutor

    from nbval.kernel import CURRENT_ENV_KERNEL_NAME

    from tests.checked_outputs_plugin import start_new_kernel

    with ThreadPoolExecutor(2) as pool:
        started = list(
            pool.map(lambda _: start_new_kernel(startup_timeout=60, kernel_name=CURRENT_ENV_KERNEL_NAME), range(2))
        )
    try:
        infos = [km.get_connection_info() for km, _ in started]
        assert [info["transport"] for info in infos] == ["ipc", "ipc"]
        assert os.path.dirname(infos[0]["ip"]) != os.path.dirname(infos[1]["ip"])
        for km, kc in started:
            assert km.is_alive()
            reply = kc.execute_interactive("6 * 7", timeout=30)
            assert reply["content"]["status"] == "ok"
    finally:
        for km, kc in started:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
