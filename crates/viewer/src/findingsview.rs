//! The Findings tab: what stands out in the trace, grouped by kind (long blocks, pauses,
//! quiet periods, mark assists) with a count each, each group collapsible, a text filter,
//! most important first; a title shows its place in the timeline. Only what is in view
//! is laid out.

use std::collections::BTreeSet;

use egui::{RichText, Ui};

use goscope_analysis::findings::{Finding, FindingKind};

/// A kind's heading in the list.
pub(crate) fn kind_title(k: FindingKind) -> &'static str {
    match k {
        FindingKind::LongBlock => "Long blocks",
        FindingKind::StopTheWorld => "Stop-the-world pauses",
        FindingKind::QuietPeriod => "Quiet periods",
        FindingKind::MarkAssist => "Long mark assists",
    }
}

/// One line of the list: a group's heading, or a finding (its index in the findings).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Line {
    Kind {
        kind: FindingKind,
        count: usize,
        open: bool,
    },
    Finding(usize),
}

/// The lines to show: groups in the order of their first (most important) finding, each
/// finding whose title, explanation or stack holds `filter` (any case), under its group's
/// heading unless the group is collapsed.
pub(crate) fn lines(
    list: &[Finding],
    filter: &str,
    collapsed: &BTreeSet<&'static str>,
) -> Vec<Line> {
    let needle = filter.trim().to_lowercase();
    let shown = |f: &Finding| {
        needle.is_empty()
            || f.title.to_lowercase().contains(&needle)
            || f.explanation.to_lowercase().contains(&needle)
            || f.stack.iter().any(|s| s.to_lowercase().contains(&needle))
    };
    let mut kinds: Vec<FindingKind> = Vec::new();
    for f in list {
        if !kinds.contains(&f.kind) {
            kinds.push(f.kind);
        }
    }
    let mut out = Vec::new();
    for kind in kinds {
        let members: Vec<usize> = (0..list.len())
            .filter(|&i| list[i].kind == kind && shown(&list[i]))
            .collect();
        if members.is_empty() {
            continue;
        }
        let open = !collapsed.contains(kind_title(kind));
        out.push(Line::Kind {
            kind,
            count: members.len(),
            open,
        });
        if open {
            out.extend(members.into_iter().map(Line::Finding));
        }
    }
    out
}

/// The tab's state: the filter and the collapsed groups.
#[derive(Default)]
pub struct FindingsView {
    pub filter: String,
    collapsed: BTreeSet<&'static str>,
    /// The lines for the filter and collapsed groups they were made for (filtering reads
    /// every finding's text, so not every frame). The document's findings never change.
    lines: Option<(String, BTreeSet<&'static str>, Vec<Line>)>,
}

/// Height of a group's heading and of a finding, in points.
const HEADING_H: f32 = 26.0;
const FINDING_H: f32 = 52.0;

impl FindingsView {
    /// Draws the list; returns the finding whose title was clicked.
    pub(crate) fn ui(&mut self, ui: &mut Ui, list: &[Finding]) -> Option<usize> {
        if list.is_empty() {
            ui.label("Nothing stands out: no long blocks, pauses, quiet periods or assists.");
            return None;
        }
        let fresh = self
            .lines
            .as_ref()
            .is_some_and(|(f, c, _)| *f == self.filter && *c == self.collapsed);
        if !fresh {
            let made = lines(list, &self.filter, &self.collapsed);
            self.lines = Some((self.filter.clone(), self.collapsed.clone(), made));
        }
        let lines = self.lines.as_ref().map_or(&[][..], |(_, _, l)| &l[..]);
        let shown = lines
            .iter()
            .filter(|l| matches!(l, Line::Finding(_)))
            .count();
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
            ui.add(
                egui::TextEdit::singleline(&mut self.filter)
                    .hint_text("text in a title, explanation or stack")
                    .desired_width(260.0),
            )
            .labelled_by(label.id);
            ui.label(
                RichText::new(format!(
                    "{shown} of {} findings, most important first · click a title to show it in the timeline",
                    list.len()
                ))
                .small()
                .weak(),
            );
        });
        ui.separator();
        let height = |l: &Line| match l {
            Line::Kind { .. } => HEADING_H,
            Line::Finding(_) => FINDING_H,
        };
        let tops: Vec<f32> = lines
            .iter()
            .scan(0.0, |y, l| {
                let top = *y;
                *y += height(l);
                Some(top)
            })
            .collect();
        let total: f32 = lines.iter().map(height).sum();
        let mut jump = None;
        let mut toggle = None;
        egui::ScrollArea::vertical()
            .id_salt("findings-list")
            .auto_shrink([false, false])
            .show_viewport(ui, |ui, viewport| {
                let width = ui.available_width();
                let (whole, _) =
                    ui.allocate_exact_size(egui::vec2(width, total), egui::Sense::hover());
                // Only the lines that meet the visible part are laid out.
                let first = tops.partition_point(|&t| t + FINDING_H < viewport.min.y);
                for (k, line) in lines.iter().enumerate().skip(first) {
                    let top = tops[k];
                    if top > viewport.max.y {
                        break;
                    }
                    let rect = egui::Rect::from_min_size(
                        egui::pos2(whole.left(), whole.top() + top),
                        egui::vec2(width, height(line)),
                    );
                    let mut cell = ui.new_child(
                        egui::UiBuilder::new()
                            .max_rect(rect)
                            .layout(egui::Layout::top_down(egui::Align::Min)),
                    );
                    cell.set_clip_rect(rect.intersect(ui.clip_rect()));
                    match *line {
                        Line::Kind { kind, count, open } => {
                            let mark = if open { "-" } else { "+" };
                            let r = cell.add(
                                egui::Button::new(
                                    RichText::new(format!("{mark} {} ({count})", kind_title(kind)))
                                        .strong(),
                                )
                                .frame(false),
                            );
                            if r.clicked() {
                                toggle = Some(kind_title(kind));
                            }
                        }
                        Line::Finding(i) => {
                            let f = &list[i];
                            if cell.link(RichText::new(&f.title).strong()).clicked() {
                                jump = Some(i);
                            }
                            cell.add(
                                egui::Label::new(RichText::new(&f.explanation).small()).truncate(),
                            );
                            if let Some(top) = f.stack.first() {
                                cell.add(
                                    egui::Label::new(RichText::new(top).monospace().small().weak())
                                        .truncate(),
                                );
                            }
                            ui.painter().hline(
                                rect.x_range(),
                                rect.bottom() - 1.0,
                                ui.visuals().widgets.noninteractive.bg_stroke,
                            );
                        }
                    }
                }
            });
        if let Some(t) = toggle
            && !self.collapsed.remove(t)
        {
            self.collapsed.insert(t);
        }
        jump
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: FindingKind, title: &str) -> Finding {
        Finding {
            kind,
            impact_ns: 0,
            start_ns: 0,
            end_ns: 0,
            lane: goscope_analysis::findings::LaneRef::None,
            title: title.to_owned(),
            explanation: String::new(),
            stack: vec!["main.wait".to_owned()],
            downstream_of: None,
            stack_id: 0,
        }
    }

    #[test]
    fn findings_group_by_kind_in_rank_order_and_filter_and_collapse() {
        use FindingKind::*;
        let list = vec![
            finding(LongBlock, "G1 blocked 1 s"),
            finding(MarkAssist, "assist 1"),
            finding(MarkAssist, "assist 2"),
            finding(LongBlock, "G2 blocked 0.5 s"),
        ];
        let none = BTreeSet::new();
        assert_eq!(
            lines(&list, "", &none),
            vec![
                Line::Kind {
                    kind: LongBlock,
                    count: 2,
                    open: true
                },
                Line::Finding(0),
                Line::Finding(3),
                Line::Kind {
                    kind: MarkAssist,
                    count: 2,
                    open: true
                },
                Line::Finding(1),
                Line::Finding(2),
            ]
        );
        // A filter keeps the matching findings and drops empty groups.
        assert_eq!(
            lines(&list, "ASSIST 2", &none),
            vec![
                Line::Kind {
                    kind: MarkAssist,
                    count: 1,
                    open: true
                },
                Line::Finding(2),
            ]
        );
        // The stack is searched too.
        assert_eq!(lines(&list, "main.wait", &none).len(), 6);
        // A collapsed group keeps its heading and count.
        let collapsed = BTreeSet::from([kind_title(LongBlock)]);
        assert_eq!(
            lines(&list, "", &collapsed)[0],
            Line::Kind {
                kind: LongBlock,
                count: 2,
                open: false
            }
        );
        assert_eq!(lines(&list, "", &collapsed).len(), 4);
    }
}
