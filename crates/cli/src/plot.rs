//! `tactile plot`: a run's learning curves as one PNG.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

/// The font the plots are drawn with (DejaVu Sans Mono; licence beside it).
const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSansMono.ttf");

/// The panels, in reading order; the last slot takes the first of its
/// names that the run has.
const PANELS: &[&[&str]] = &[
    &["charts/episodic_return"],
    &["charts/success_rate"],
    &["charts/episodic_length"],
    &["losses/policy_loss"],
    &["losses/value_loss"],
    &["losses/entropy"],
    &["losses/approx_kl"],
    &["losses/explained_variance"],
    &["charts/discriminator_accuracy", "charts/SPS"],
];

/// Draws the curves of `run_dir/metrics.csv` into `out` (written to a
/// hidden sibling first, then renamed into place).
pub fn plot(run_dir: &Path, out: &Path) -> Result<()> {
    let columns = tactile_rl::read_metrics(run_dir)?;
    let find = |name: &str| columns.iter().find(|(n, points)| n == name && !points.is_empty());
    if find("charts/SPS").is_none() {
        bail!("{}: no rows yet (train for at least one update)", run_dir.join("metrics.csv").display());
    }
    register_font("sans-serif", FontStyle::Normal, FONT).map_err(|_| anyhow!("the built-in font is unreadable"))?;
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("curves.png");
    if !name.ends_with(".png") {
        bail!("{}: the image must be a .png", out.display());
    }
    let tmp = out.with_file_name(format!(".partial.{name}"));
    let title = run_dir.file_name().and_then(|n| n.to_str()).unwrap_or("run").to_owned();
    {
        let root = BitMapBackend::new(&tmp, (1500, 1000)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("drawing: {e}"))?;
        let root = root.titled(&title, ("sans-serif", 24)).map_err(|e| anyhow!("drawing: {e}"))?;
        let areas = root.split_evenly((3, 3));
        for (area, names) in areas.iter().zip(PANELS) {
            let Some((name, points)) = names.iter().find_map(|n| find(n)) else { continue };
            panel(area, name, points).map_err(|e| anyhow!("drawing {name}: {e}"))?;
        }
        root.present().map_err(|e| anyhow!("writing {}: {e}", tmp.display()))?;
    }
    std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

/// One curve: the points, and their running mean over a tenth of the run.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    name: &str,
    points: &[(f64, f64)],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (x0, x1) = (points[0].0, points[points.len() - 1].0.max(points[0].0 + 1.0));
    let (mut y0, mut y1) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let pad = ((y1 - y0) * 0.05).max(1e-6);
    y0 -= pad;
    y1 += pad;
    let mut chart = ChartBuilder::on(area)
        .caption(name, ("sans-serif", 18))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_labels(5)
        .y_labels(5)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.3}"))
        .label_style(("sans-serif", 12))
        .draw()?;
    chart.draw_series(LineSeries::new(points.iter().copied(), RGBColor(170, 190, 230)))?;
    let window = (points.len() / 10).max(1);
    let mut sum = 0.0;
    let smooth = points.iter().enumerate().map(|(i, p)| {
        sum += p.1;
        if i >= window {
            sum -= points[i - window].1;
        }
        (p.0, sum / (i + 1).min(window) as f64)
    });
    chart.draw_series(LineSeries::new(smooth.collect::<Vec<_>>(), BLUE.stroke_width(2)))?;
    Ok(())
}
