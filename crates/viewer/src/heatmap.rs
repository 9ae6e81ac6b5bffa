//! The Utilization tab: a utilization heatmap, one row a processor and one cell a slice of
//! the trace, shaded by the share of the slice in which the processor ran goroutines
//! (computed exactly, in the background, once per trace); hovering a cell gives its share,
//! clicking it shows that slice of time in the timeline.

use std::sync::Arc;

use egui::{Color32, Pos2, Rect, RichText, Sense, Ui, Vec2};

use super::analyses::Slot;
use super::loader::{OpenTrace, TraceId};
use super::panels::Action;
use super::view::{format_duration, since_start};
use goscope_model::Model;

/// Slices the trace is cut into.
pub(crate) const BUCKETS: usize = 200;
/// Height of a processor's row.
const ROW_PX: f32 = 18.0;
/// Width of the processor names at the left, and of the totals at the right.
const NAME_PX: f32 = 70.0;
const TOTAL_PX: f32 = 56.0;

/// Each processor's busy share per slice of `[start_ns, end_ns)`.
pub(crate) struct Heat {
    pub(crate) start_ns: i64,
    pub(crate) end_ns: i64,
    /// Per processor (model order): its id, its share per slice, and over the whole trace.
    pub(crate) rows: Vec<(i64, Vec<f32>, f32)>,
}

impl Heat {
    /// The heatmap of a model (`BUCKETS` slices).
    pub(crate) fn of(model: &Model) -> Heat {
        let (start_ns, end_ns) = (model.start_ns, model.end_ns.max(model.start_ns + 1));
        let rows = model
            .procs
            .iter()
            .map(|p| {
                let shares = p.busy_per_bucket(start_ns, end_ns, BUCKETS);
                let total = shares.iter().sum::<f32>() / BUCKETS as f32;
                (p.id, shares, total)
            })
            .collect();
        Heat {
            start_ns,
            end_ns,
            rows,
        }
    }

    /// Slice `k`'s time range.
    pub(crate) fn slice_ns(&self, k: usize) -> (i64, i64) {
        let w = (self.end_ns - self.start_ns) as f64 / BUCKETS as f64;
        (
            self.start_ns + (k as f64 * w) as i64,
            self.start_ns + ((k + 1) as f64 * w) as i64,
        )
    }
}

/// The colour of a busy share: dark when idle, through blue and green to amber when busy.
pub(crate) fn heat_color(share: f32) -> Color32 {
    let stops = [
        (0.0, Color32::from_rgb(24, 26, 32)),
        (0.25, Color32::from_rgb(40, 70, 140)),
        (0.5, Color32::from_rgb(40, 140, 120)),
        (0.75, Color32::from_rgb(150, 180, 60)),
        (1.0, Color32::from_rgb(245, 190, 50)),
    ];
    let s = share.clamp(0.0, 1.0);
    for w in stops.windows(2) {
        let ((a, ca), (b, cb)) = (w[0], w[1]);
        if s <= b {
            return ca.lerp_to_gamma(cb, (s - a) / (b - a));
        }
    }
    stops[stops.len() - 1].1
}

/// The tab's state: the heatmap of the open trace.
#[derive(Default)]
pub struct HeatmapView {
    heat: Option<(TraceId, Slot<Arc<Heat>>)>,
}

impl HeatmapView {
    pub(crate) fn ui(&mut self, ui: &mut Ui, trace: &OpenTrace) -> Action {
        if self.heat.as_ref().is_none_or(|(id, _)| *id != trace.id) {
            let model = trace.model.clone();
            let slot = Slot::spawn("heatmap", ui.ctx(), move || Arc::new(Heat::of(&model)));
            self.heat = Some((trace.id, slot));
        }
        let Some((_, slot)) = self.heat.as_mut() else {
            return Action::None;
        };
        let Some(heat) = slot.get_or_pending_ui(ui, || "measuring the processors…".into()) else {
            return Action::None;
        };
        let heat = heat.clone();
        heat_ui(ui, &trace.model, &heat)
    }
}

/// The heatmap itself, with names, totals and a colour key.
fn heat_ui(ui: &mut Ui, model: &Model, heat: &Heat) -> Action {
    let mut action = Action::None;
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(format!(
                "Processor utilization: the share of each {} in which a processor ran goroutines",
                format_duration((heat.end_ns - heat.start_ns) as f64 / BUCKETS as f64)
            ))
            .strong(),
        );
        ui.label(
            RichText::new("hover a cell for its share · click it to show that time")
                .small()
                .weak(),
        );
        for (share, text) in [(0.0, "idle"), (0.5, "half"), (1.0, "busy")] {
            let (r, _) = ui.allocate_exact_size(Vec2::new(14.0, 12.0), Sense::hover());
            ui.painter().rect_filled(r, 2.0, heat_color(share));
            ui.label(RichText::new(text).small());
        }
    });
    if heat.rows.is_empty() {
        ui.label(RichText::new("The trace shows no processors.").weak());
        return action;
    }
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let width = ui.available_width().max(NAME_PX + TOTAL_PX + 100.0);
            let (rect, resp) = ui.allocate_exact_size(
                Vec2::new(width, ROW_PX * heat.rows.len() as f32),
                Sense::click(),
            );
            let grid = Rect::from_min_max(
                Pos2::new(rect.left() + NAME_PX, rect.top()),
                Pos2::new(rect.right() - TOTAL_PX, rect.bottom()),
            );
            let cell_w = grid.width() / BUCKETS as f32;
            let painter = ui.painter_at(rect);
            let text = ui.visuals().text_color();
            let mut mesh = egui::Mesh::default();
            for (row, (id, shares, total)) in heat.rows.iter().enumerate() {
                let y = rect.top() + row as f32 * ROW_PX;
                painter.text(
                    Pos2::new(rect.left() + 4.0, y + ROW_PX / 2.0),
                    egui::Align2::LEFT_CENTER,
                    format!("Proc {id}"),
                    egui::FontId::proportional(12.0),
                    text,
                );
                for (k, &s) in shares.iter().enumerate() {
                    let x = grid.left() + k as f32 * cell_w;
                    let cell = Rect::from_min_max(
                        Pos2::new(x, y + 1.0),
                        Pos2::new(x + cell_w.max(1.0), y + ROW_PX - 1.0),
                    );
                    mesh.add_colored_rect(cell, heat_color(s));
                }
                painter.text(
                    Pos2::new(rect.right() - 4.0, y + ROW_PX / 2.0),
                    egui::Align2::RIGHT_CENTER,
                    format!("{:.0}%", total * 100.0),
                    egui::FontId::proportional(12.0),
                    text,
                );
            }
            painter.add(egui::Shape::mesh(mesh));
            let cell_at = |p: Pos2| {
                if !grid.contains(p) {
                    return None;
                }
                let row = ((p.y - rect.top()) / ROW_PX) as usize;
                let k = (((p.x - grid.left()) / cell_w) as usize).min(BUCKETS - 1);
                (row < heat.rows.len()).then_some((row, k))
            };
            if let Some((row, k)) = resp.hover_pos().and_then(cell_at) {
                let (id, shares, _) = &heat.rows[row];
                let (a, b) = heat.slice_ns(k);
                let cell = Rect::from_min_size(
                    Pos2::new(
                        grid.left() + k as f32 * cell_w,
                        rect.top() + row as f32 * ROW_PX,
                    ),
                    Vec2::new(cell_w.max(1.0), ROW_PX),
                );
                painter.rect_stroke(
                    cell,
                    0.0,
                    egui::Stroke::new(1.0, Color32::WHITE),
                    egui::StrokeKind::Inside,
                );
                let tip = format!(
                    "Proc {id}, {} to {}: {:.0}% busy",
                    since_start(model, a),
                    since_start(model, b),
                    shares[k] * 100.0
                );
                resp.clone().on_hover_text_at_pointer(tip);
            }
            if resp.clicked() {
                if let Some((_, k)) = resp.interact_pointer_pos().and_then(cell_at) {
                    let (a, b) = heat.slice_ns(k);
                    action = Action::ShowRange(a, b);
                }
            }
            resp.widget_info(|| {
                egui::WidgetInfo::labeled(
                    egui::Role::Image,
                    true,
                    format!(
                        "Processor utilization heatmap, {} processors",
                        heat.rows.len()
                    ),
                )
            });
        });
    action
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heatmap_sums_to_each_processors_busy_time() {
        let model = goscope_model::build(&goscope_testdata::trace_bytes("gc-go127")).unwrap();
        let heat = Heat::of(&model);
        assert_eq!(heat.rows.len(), model.procs.len());
        let slice_ns = (heat.end_ns - heat.start_ns) as f64 / BUCKETS as f64;
        for ((id, shares, _), p) in heat.rows.iter().zip(&model.procs) {
            assert_eq!(*id, p.id);
            assert_eq!(shares.len(), BUCKETS);
            // The cells add up to the time the P ran goroutines.
            let busy_ns: f64 = shares.iter().map(|&s| s as f64 * slice_ns).sum();
            let spans_ns: i64 = p.spans.iter().map(|s| s.end_ns - s.start_ns).sum();
            let diff = (busy_ns - spans_ns as f64).abs();
            assert!(
                diff <= 1e-4 * spans_ns as f64 + BUCKETS as f64,
                "P{id}: {busy_ns} vs {spans_ns}"
            );
        }
        assert!(heat.rows.iter().any(|(_, s, _)| s.iter().any(|&x| x > 0.5)));
        assert_eq!(heat.slice_ns(0).0, model.start_ns);
        assert_eq!(heat.slice_ns(BUCKETS - 1).1, heat.end_ns);
    }

    #[test]
    fn colours_go_from_dark_to_bright() {
        let lum = |c: Color32| c.r() as u32 + c.g() as u32 + c.b() as u32;
        let mut prev = 0;
        for i in 0..=10 {
            let l = lum(heat_color(i as f32 / 10.0));
            assert!(l >= prev, "{i}: {l} < {prev}");
            prev = l;
        }
        assert_eq!(heat_color(-1.0), heat_color(0.0));
        assert_eq!(heat_color(2.0), heat_color(1.0));
    }
}
