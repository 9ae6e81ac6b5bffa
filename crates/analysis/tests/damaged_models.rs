//! Building the model and finding what stands out in it, on damaged traces: errors are
//! fine, panics are not.

use goscope_model::Model;

#[test]
fn model_building_never_panics_on_mutated_traces() {
    let mut x: u64 = 0x2545f4914f6cdd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut total_previews = 0;
    for name in ["stall-go127", "gc-go122", "annotations-go125", "net-go123"] {
        let p = goscope_testdata::dir()
            .join("traces")
            .join(format!("{name}.trace"));
        let data = std::fs::read(p).unwrap();
        for _ in 0..60 {
            let mut d = data.clone();
            for _ in 0..1 + next() % 6 {
                let i = 16 + (next() as usize) % (d.len() - 16);
                d[i] = next() as u8;
            }
            // With a preview taken part way (the copy, the closing Sync and the finish of
            // a half-built model run on damaged input too).
            let mut previews = 0;
            let built = goscope_model::build_previewing(
                &d,
                &std::sync::atomic::AtomicBool::new(false),
                &mut |_| {},
                1 + next() % 2000,
                Some(&mut |m: Model| {
                    let _ = goscope_analysis::findings::findings(&m);
                    previews += 1;
                }),
            );
            assert!(previews <= 1);
            total_previews += previews;
            if let Ok(m) = built {
                let _ = goscope_analysis::findings::findings(&m);
            }
        }
    }
    assert!(total_previews > 0, "no preview was taken");
}
