//! Side panels: details of a clicked span (states, times, stacks, who created and who woke
//! it), the summary of a shift-drag selection, and the help text.

use egui::{RichText, Ui};

use super::timeline::Pick;
use super::view::{format_duration, since_start};
use goscope_analysis::selection::SelectionSummary;
use goscope_model::{GState, Model, StackId};

/// Every key and gesture, for the help overlay.
pub(crate) const HELP: &[(&str, &str)] = &[
    (
        "W / S",
        "zoom in / out around the mouse (a step a tap; hold for smooth zoom)",
    ),
    ("A / D", "pan left / right (a step a tap; hold to glide)"),
    ("wheel, Ctrl+wheel", "zoom around the mouse"),
    ("Shift+wheel", "pan"),
    ("drag", "pan"),
    ("Shift+drag", "select a time range"),
    ("Z", "zoom to the selection"),
    ("Home or 0", "show the whole trace"),
    ("Backspace, mouse back", "back to the previous view"),
    ("Shift+Backspace, mouse forward", "forward again"),
    ("Esc", "clear the selection, then the clicked span"),
    (
        "click",
        "show a span's details and stacks; on a folded item, zoom into it",
    ),
    (
        "double-click",
        "focus a goroutine and the goroutines it interacted with",
    ),
    ("wheel over lane names, PgUp / PgDn", "scroll the lanes"),
    (
        "Ctrl+F",
        "find a goroutine (g123), processor (p3), thread (m5), function, task, region or log; Up / Down and Enter walk the results",
    ),
    ("Ctrl+O", "open a trace (or drop a file onto the window)"),
    (
        "Ctrl+Shift+O",
        "capture a trace from a running program (net/http/pprof) and watch it arrive",
    ),
    ("Ctrl+= / Ctrl+-", "make the whole window larger / smaller"),
    (
        "right-click a table's header",
        "copy the table as CSV or TSV, or save it as CSV",
    ),
    ("?", "this help"),
];

/// What a panel asks the app to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    None,
    /// Show goroutine `g` at this time.
    Jump {
        g: i64,
        t_ns: i64,
    },
    /// Show goroutine `g`'s lane framing its whole life.
    ShowGoroutine(i64),
    /// Select user task `model.tasks[i]` and show it in the tasks lanes.
    ShowTask(usize),
    /// Focus the goroutine view on `g` and its partners.
    Focus(i64),
    ShowRange(i64, i64),
    /// Search the timeline for this text (a function name) and show the first match.
    Find(String),
    /// Show where these goroutines ran (their CPU profile) and where they waited, in the
    /// Profiles tab; `label` names them.
    Profiles {
        label: String,
        goroutines: Vec<i64>,
    },
}

/// Children listed by name under a start function, at most.
const MAX_CHILD_LINKS: usize = 50;
/// Creators listed up the chain, at most.
const MAX_ANCESTORS: usize = 20;

/// The family of goroutine `gi`: the chain of goroutines that created it, and the ones it
/// created, counted per start function; each a link that shows that goroutine's life.
fn family_ui(ui: &mut Ui, model: &Model, gi: usize) -> Option<Action> {
    let ancestors = model.ancestors(gi, MAX_ANCESTORS);
    let children = model.children(gi);
    if ancestors.is_empty() && children.is_empty() {
        return None;
    }
    let mut action = None;
    let mut link = |ui: &mut Ui, g: &goscope_model::Goroutine| {
        if ui.link(model.goroutine_label(g.id)).clicked() {
            action = Some(Action::ShowGoroutine(g.id));
        }
    };
    let title = format!(
        "Family: {} creator{} up, {} child{}",
        ancestors.len(),
        if ancestors.len() == 1 { "" } else { "s" },
        children.len(),
        if children.len() == 1 { "" } else { "ren" }
    );
    egui::CollapsingHeader::new(title)
        .id_salt(("family", gi))
        .show(ui, |ui| {
            if !ancestors.is_empty() {
                ui.label(RichText::new("Created by, nearest first").strong());
                for &a in &ancestors {
                    link(ui, &model.goroutines[a]);
                }
            }
            if children.is_empty() {
                return;
            }
            ui.label(RichText::new("Created").strong());
            // Per start function, the most children first.
            let mut groups: Vec<(goscope_model::StrId, Vec<usize>)> = Vec::new();
            for &k in children {
                let k = k as usize;
                let f = model.goroutines[k].start_fn;
                match groups.iter_mut().find(|(g, _)| *g == f) {
                    Some((_, v)) => v.push(k),
                    None => groups.push((f, vec![k])),
                }
            }
            groups.sort_by_key(|g| std::cmp::Reverse(g.1.len()));
            for (f, kids) in groups {
                let name = match model.string(f) {
                    "" => "(no stack seen)",
                    s => s,
                };
                egui::CollapsingHeader::new(format!("{name} × {}", kids.len()))
                    .id_salt(("family-children", gi, f))
                    .show(ui, |ui| {
                        for &k in kids.iter().take(MAX_CHILD_LINKS) {
                            link(ui, &model.goroutines[k]);
                        }
                        if kids.len() > MAX_CHILD_LINKS {
                            ui.label(
                                RichText::new(format!(
                                    "and {} more (Goroutine analysis lists them all)",
                                    kids.len() - MAX_CHILD_LINKS
                                ))
                                .weak(),
                            );
                        }
                    });
            }
        });
    action
}

/// What each colour of the timeline means: goroutine states and wait reasons, runtime
/// work on processors, the ribbons, and how a fold of many small spans is drawn.
pub(crate) fn legend_ui(ui: &mut Ui, id: &str) {
    use super::colors;
    let swatch = |ui: &mut Ui, c: egui::Color32, text: &str| {
        ui.horizontal(|ui| {
            let (r, _) = ui.allocate_exact_size(egui::vec2(18.0, 12.0), egui::Sense::hover());
            ui.painter().rect_filled(r, 2.0, c);
            ui.label(text);
        });
    };
    let section = |ui: &mut Ui, title: &str, items: &[(egui::Color32, &str)]| {
        ui.label(RichText::new(title).strong());
        egui::Grid::new((id, title)).num_columns(2).show(ui, |ui| {
            for (i, (c, t)) in items.iter().enumerate() {
                swatch(ui, *c, t);
                if i % 2 == 1 {
                    ui.end_row();
                }
            }
        });
        ui.add_space(4.0);
    };
    section(
        ui,
        "Goroutine states",
        &[
            (colors::RUNNING, "running"),
            (colors::RUNNABLE, "runnable (waiting for a P)"),
            (colors::SYSCALL, "in a syscall"),
            (colors::WAITING, "waiting (other reasons)"),
            (colors::ASSIST, "GC mark assist (a band along the top)"),
        ],
    );
    let reasons = [
        "chan receive",
        "chan send",
        "select",
        "sync",
        "network",
        "sleep",
        "GC assist wait",
        "system goroutine wait",
    ];
    let reason_items: Vec<(egui::Color32, &str)> = reasons
        .iter()
        .map(|r| (colors::wait_reason(r), *r))
        .collect();
    section(ui, "Waiting, by reason", &reason_items);
    section(
        ui,
        "Processors (lower half) and ribbons",
        &[
            (colors::ASSIST, "GC mark assist"),
            (colors::SWEEP, "GC sweep"),
            (colors::GC, "GC mark phase; GC-waiting goroutines"),
            (colors::STW, "stop-the-world"),
            (colors::HEAP, "heap allocated"),
            (colors::HEAP_GOAL, "heap goal"),
            (colors::NETWORK, "network arrivals"),
            (colors::TIMER, "timers firing"),
            (colors::BUSY, "a processor's busy time (folded)"),
            (colors::REGION, "user regions"),
            (colors::TASK, "user tasks"),
            (colors::SAMPLE, "CPU samples"),
        ],
    );
    ui.label(RichText::new("Folds").strong());
    ui.label(
        "Spans narrower than 3 px fold together. A fold is drawn per pixel column as the \
         share of time in each state, stacked from the bottom up to 70% of the lane, under \
         a thin line; a span drawn as itself fills the lane. On processors, goroutines are \
         coloured by start function.",
    );
}

/// Lists a stack's frames; clicking one copies it.
pub(crate) fn stack_ui(ui: &mut Ui, model: &Model, title: &str, stack: StackId) {
    ui.label(RichText::new(title).strong());
    if model.interner.stack_len(stack) == 0 {
        ui.label(RichText::new("(no stack)").weak());
        return;
    }
    for f in model.interner.stack(stack) {
        let func = model.string(f.func);
        let file = format!("{}:{}", model.string(f.file), f.line);
        // One line each, cut with an ellipsis when the panel is narrow (never wrapped a few
        // letters a line); the whole frame shows on hover.
        let r = ui.add(
            egui::Label::new(RichText::new(func).monospace())
                .truncate()
                .sense(egui::Sense::click()),
        );
        ui.add(
            egui::Label::new(
                RichText::new(format!("    {file}"))
                    .monospace()
                    .small()
                    .weak(),
            )
            .truncate(),
        );
        if r.on_hover_text(format!("{func}\n{file}\nclick to copy"))
            .clicked()
        {
            ui.ctx().copy_text(format!("{func}\n\t{file}"));
        }
    }
}

/// The details of a picked item. Returns what the user asked for.
pub(crate) fn details_ui(ui: &mut Ui, model: &Model, pick: Pick) -> Action {
    let mut action = Action::None;
    if match pick {
        Pick::GSpan { g, span } => model.goroutines[g]
            .spans
            .get(span)
            .is_some_and(|s| s.is_summary()),
        Pick::PSpan { p, span } => model.procs[p]
            .spans
            .get(span)
            .is_some_and(|s| s.is_summary()),
        Pick::MSpan { m, span } => model.threads[m]
            .spans
            .get(span)
            .is_some_and(|s| s.is_summary()),
        _ => false,
    } {
        ui.heading("Summed spans");
        ui.label(crate::view::summary_note(model));
        return action;
    }
    match pick {
        Pick::GSpan { g, span } => {
            let gr = &model.goroutines[g];
            let Some(s) = gr.spans.get(span) else {
                return action;
            };
            ui.heading(model.goroutine_label(gr.id));
            let reason = if s.reason != 0 {
                format!(" ({})", model.string(s.reason))
            } else {
                String::new()
            };
            let on_p = if s.state == GState::Running && s.p >= 0 {
                format!(" on Proc {}", s.p)
            } else {
                String::new()
            };
            ui.label(format!("State: {}{reason}{on_p}", s.state.name()));
            if let Some(t) = model.span_tag(&s) {
                ui.label(format!("Waits on: {}", t.name()))
                    .on_hover_text("Read from the stack where it blocked");
            }
            ui.label(format!("Start: {}", since_start(model, s.start_ns)));
            ui.label(format!("End: {}", since_start(model, s.end_ns)));
            ui.label(format!(
                "Duration: {}",
                format_duration(s.duration_ns() as f64)
            ));
            if gr.creator >= 0
                && ui
                    .link(format!("Created by {}", model.goroutine_label(gr.creator)))
                    .clicked()
            {
                action = Action::Jump {
                    g: gr.creator,
                    t_ns: gr.created_ns.unwrap_or(s.start_ns),
                };
            }
            // Who made it runnable: the waker of this span, or of the next one for a wait.
            let woke = if s.state == GState::Waiting {
                gr.spans.get(span + 1)
            } else {
                Some(s)
            };
            if let Some(w) = woke.filter(|w| w.state == GState::Runnable) {
                if w.waker >= 0 {
                    if ui
                        .link(format!(
                            "Unblocked by {} at {}",
                            model.goroutine_label(w.waker),
                            since_start(model, w.start_ns)
                        ))
                        .clicked()
                    {
                        action = Action::Jump {
                            g: w.waker,
                            t_ns: w.start_ns - 1,
                        };
                    }
                } else if s.state == GState::Waiting || span > 0 {
                    ui.label(format!(
                        "Unblocked by the runtime at {}",
                        since_start(model, w.start_ns)
                    ));
                }
            }
            ui.horizontal(|ui| {
                if ui.button("Show this goroutine's timeline").clicked() {
                    action = Action::Focus(gr.id);
                }
                if ui
                    .button("Where it ran and waited")
                    .on_hover_text("Its CPU profile (from the trace's CPU samples) beside where it blocked, in the Profiles tab")
                    .clicked()
                {
                    action = Action::Profiles {
                        label: model.goroutine_label(gr.id),
                        goroutines: vec![gr.id],
                    };
                }
            });
            if let Some(a) = family_ui(ui, model, g) {
                action = a;
            }
            ui.separator();
            match s.state {
                GState::Waiting => {
                    stack_ui(
                        ui,
                        model,
                        "End stack trace (where it blocked)",
                        s.start_stack,
                    );
                    ui.add_space(6.0);
                    stack_ui(ui, model, "Unblocked at", s.end_stack);
                }
                GState::Running => {
                    stack_ui(ui, model, "End stack trace (where it stopped)", s.end_stack);
                    ui.add_space(6.0);
                    stack_ui(ui, model, "Start stack", s.start_stack);
                }
                GState::Runnable => stack_ui(ui, model, "Made runnable at", s.start_stack),
                GState::Syscall => stack_ui(ui, model, "Syscall at", s.start_stack),
            }
            if gr.create_stack != 0 {
                ui.add_space(6.0);
                stack_ui(ui, model, "Created at", gr.create_stack);
            }
        }
        Pick::PSpan { p, span } => {
            let Some(s) = model.procs[p].spans.get(span) else {
                return action;
            };
            ui.heading(model.proc_label(model.procs[p].id));
            ui.label(format!("Running {}", model.goroutine_label(s.g)));
            ui.label(format!("Start: {}", since_start(model, s.start_ns)));
            ui.label(format!(
                "Duration: {}",
                format_duration((s.end_ns - s.start_ns) as f64)
            ));
            if ui.button("Go to this goroutine").clicked() {
                action = Action::Jump {
                    g: s.g,
                    t_ns: s.start_ns,
                };
            }
        }
        Pick::PWork { p, work } => {
            let w = model.procs[p].work[work];
            ui.heading(format!("Proc {}: {}", model.procs[p].id, w.work.name()));
            ui.label(format!("Start: {}", since_start(model, w.start_ns)));
            ui.label(format!(
                "Duration: {}",
                format_duration((w.end_ns - w.start_ns) as f64)
            ));
            if w.goes_on {
                ui.label(
                    "The goroutine left the P before its assist ended (blocked in the assist, \
                     or preempted); the assist goes on where it runs next.",
                );
            }
            if w.g >= 0
                && ui
                    .link(format!("On {}", model.goroutine_label(w.g)))
                    .clicked()
            {
                action = Action::Jump {
                    g: w.g,
                    t_ns: w.start_ns,
                };
            }
        }
        Pick::MSpan { m, span } => {
            let Some(s) = model.threads[m].spans.get(span) else {
                return action;
            };
            ui.heading(format!("Thread {}", model.threads[m].id));
            ui.label(if s.syscall {
                if s.p >= 0 {
                    format!("In a syscall holding Proc {}", s.p)
                } else {
                    "In a syscall without a P".into()
                }
            } else {
                format!("Running on Proc {}", s.p)
            });
            ui.label(format!(
                "Duration: {}",
                format_duration((s.end_ns - s.start_ns) as f64)
            ));
            if s.g >= 0 && ui.link(model.goroutine_label(s.g)).clicked() {
                action = Action::Jump {
                    g: s.g,
                    t_ns: s.start_ns,
                };
            }
        }
        Pick::Stw(i) => {
            let s = model.stw[i];
            ui.heading(format!("stop-the-world ({})", model.string(s.kind)));
            ui.label(format!("Start: {}", since_start(model, s.start_ns)));
            ui.label(format!(
                "Duration: {}",
                format_duration((s.end_ns - s.start_ns) as f64)
            ));
            if s.straggler_p >= 0 {
                ui.label(format!(
                    "Last P to stop: Proc {}, {} after the pause began",
                    s.straggler_p,
                    format_duration(s.straggler_ns as f64)
                ));
            }
        }
        Pick::Gc(i) => {
            let c = model.gc[i];
            ui.heading(format!("GC cycle {}", c.seq));
            ui.label(format!(
                "Mark phase: {} from {}",
                format_duration((c.end_ns - c.start_ns) as f64),
                since_start(model, c.start_ns)
            ));
        }
        Pick::Region { g, region } => {
            let r = model.goroutines[g].regions[region];
            ui.heading(format!("Region {}", model.string(r.name)));
            ui.label(format!("On {}", model.goroutine_label(r.g)));
            ui.label(format!(
                "Duration: {}",
                format_duration((r.end_ns - r.start_ns) as f64)
            ));
            stack_ui(ui, model, "Begun at", r.start_stack);
        }
        Pick::Task(i) => {
            let t = &model.tasks[i];
            ui.heading(format!("Task {} ({})", model.string(t.name), t.id));
            if let (Some(a), Some(b)) = (t.start_ns, t.end_ns) {
                ui.label(format!("Duration: {}", format_duration((b - a) as f64)));
            }
            ui.label(format!("Goroutines: {}", t.goroutines.len()));
            for &g in t.goroutines.iter().take(20) {
                if ui.link(model.goroutine_label(g)).clicked() {
                    action = Action::Jump {
                        g,
                        t_ns: t.start_ns.unwrap_or(model.start_ns),
                    };
                }
            }
            // Its regions, on whichever goroutine they ran.
            let regions: Vec<&goscope_model::Region> = t
                .goroutines
                .iter()
                .filter_map(|&g| model.goroutine(g))
                .flat_map(|g| g.regions.iter())
                .filter(|r| r.task == t.id)
                .collect();
            if !regions.is_empty() {
                ui.label(format!("Regions: {}", regions.len()));
                for r in regions.iter().take(20) {
                    let text = format!(
                        "{}{} — {}",
                        "  ".repeat(r.depth as usize),
                        model.string(r.name),
                        format_duration((r.end_ns - r.start_ns) as f64)
                    );
                    if ui.link(text).clicked() {
                        action = Action::Jump {
                            g: r.g,
                            t_ns: r.start_ns,
                        };
                    }
                }
            }
        }
        Pick::Folded {
            start_ns, end_ns, ..
        } => {
            if ui.button("Zoom into these spans").clicked() {
                action = Action::ShowRange(start_ns, end_ns);
            }
        }
    }
    action
}

pub(crate) fn selection_ui(ui: &mut Ui, model: &Model, s: &SelectionSummary) {
    ui.heading("Selection");
    ui.label(format!(
        "Selection: {} (from {} to {})",
        format_duration(s.end_ns - s.start_ns),
        format_duration(s.start_ns - model.start_ns as f64),
        format_duration(s.end_ns - model.start_ns as f64)
    ));
    ui.label(format!(
        "{} goroutines, {} state changes, {} GC cycles, {} stop-the-world pauses",
        s.goroutines, s.transitions, s.gc_cycles, s.stw
    ));
    egui::Grid::new("sel-states").striped(true).show(ui, |ui| {
        ui.label(RichText::new("state").strong());
        ui.label(RichText::new("total time").strong());
        ui.label(RichText::new("spans").strong());
        ui.end_row();
        for (i, st) in [
            GState::Running,
            GState::Runnable,
            GState::Waiting,
            GState::Syscall,
        ]
        .iter()
        .enumerate()
        {
            ui.label(st.name());
            ui.label(format_duration(s.per_state[i].0 as f64));
            ui.label(s.per_state[i].1.to_string());
            ui.end_row();
        }
    });
    if !s.per_reason.is_empty() {
        ui.label(RichText::new("Waiting by reason").strong());
        for (r, d) in s.per_reason.iter().take(12) {
            ui.label(format!("{r}: {}", format_duration(*d as f64)));
        }
    }
}
