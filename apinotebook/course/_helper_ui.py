"""The decision helper: ipywidgets sliders over :func:`recommend`, with a text fallback."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from apinotebook.course._criteria import CRITERIA, NATIVE_AVAILABLE
from apinotebook.course._decide import Recommendation, _ranking_html, recommend

__all__ = ["DecisionHelper", "decision_helper"]


class DecisionHelper:
    """The decision helper: sliders and toggles for each criterion, a live ranking.

    Built by :func:`decision_helper`. In a notebook with ipywidgets it shows
    the controls; elsewhere it shows the text summary. Either way
    :attr:`answers` and :attr:`recommendation` hold the current state, and
    :meth:`set` changes answers from code (the sliders follow).
    """

    def __init__(self, answers: Mapping[str, Any] | None = None) -> None:
        self.recommendation = recommend(answers or {})
        self.widget: Any = None
        self._controls: dict[str, Any] = {}
        self._output: Any = None
        try:
            import ipywidgets
        except ImportError:
            return
        self._build(ipywidgets)

    @property
    def answers(self) -> dict[str, int | bool]:
        """The current answers (every criterion, plus ``native_available``)."""
        return dict(self.recommendation.answers)

    def set(self, **answers: Any) -> Recommendation:
        """Change some answers; returns the new recommendation."""
        self.recommendation = recommend({**self.answers, **answers})
        for key, control in self._controls.items():
            control.value = self.recommendation.answers[key]
        self._render()
        return self.recommendation

    def _build(self, widgets: Any) -> None:
        rows = []
        for key, crit in CRITERIA.items():
            value = self.recommendation.answers[key]
            if crit.is_flag:
                control = widgets.Checkbox(
                    value=bool(value), description=crit.levels[1], indent=False
                )
                readout = widgets.HTML("")
            else:
                control = widgets.IntSlider(
                    value=int(value),
                    min=0,
                    max=4,
                    step=1,
                    readout=False,
                    continuous_update=True,
                    layout=widgets.Layout(width="180px"),
                )
                readout = widgets.HTML(f"<i>{escape(crit.levels[int(value)])}</i>")
            title = widgets.HTML(
                f"<b>{escape(crit.label)}</b><br><span style='font-size:11px;color:#555'>"
                f"{escape(crit.question)}</span>",
                layout=widgets.Layout(width="300px"),
            )
            control.observe(self._changed(key, readout), names="value")
            self._controls[key] = control
            rows.append(widgets.HBox([title, control, readout]))
        native = widgets.Checkbox(
            value=bool(self.recommendation.answers[NATIVE_AVAILABLE]),
            description="a built-in connector exists for these two apps",
            indent=False,
        )
        native.observe(self._changed(NATIVE_AVAILABLE, None), names="value")
        self._controls[NATIVE_AVAILABLE] = native
        rows.append(native)
        self._output = widgets.HTML(_ranking_html(self.recommendation))
        controls = widgets.VBox(rows, layout=widgets.Layout(min_width="560px"))
        self.widget = widgets.HBox([controls, self._output])

    def _changed(self, key: str, readout: Any) -> Any:
        def on_change(change: Mapping[str, Any]) -> None:
            value = change["new"]
            if self.recommendation.answers.get(key) == value:
                return
            self.recommendation = recommend({**self.answers, key: value})
            if readout is not None and not CRITERIA[key].is_flag:
                readout.value = f"<i>{escape(CRITERIA[key].levels[int(value)])}</i>"
            self._render()

        return on_change

    def _render(self) -> None:
        if self._output is not None:
            self._output.value = _ranking_html(self.recommendation)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = {}
        if self.widget is not None:
            widget_bundle = self.widget._repr_mimebundle_(**kwargs)
            if isinstance(widget_bundle, tuple):
                widget_bundle = widget_bundle[0]
            bundle.update(widget_bundle or {})
        bundle["text/plain"] = self.recommendation.summary()  # what a static viewer shows
        return bundle

    def __repr__(self) -> str:
        return self.recommendation.summary()


def decision_helper(answers: Mapping[str, Any] | None = None, /, **more: Any) -> DecisionHelper:
    """Sliders and toggles for the eight criteria, with a live ranking and reasons.

    Needs ipywidgets (the ``notebook`` extra) to show the controls; without
    it, it shows :meth:`Recommendation.summary` for the given answers, and
    :meth:`DecisionHelper.set` still works.
    """
    return DecisionHelper({**dict(answers or {}), **more})
