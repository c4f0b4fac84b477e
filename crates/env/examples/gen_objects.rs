//! Writes TANDEM's polygon objects to `assets/objects/polygon_<k>.obj`.

use tactile_env::tasks::polygons::{OBJECT_COUNT, OBJECT_SEED, extruded_obj, polygons};

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/objects");
    std::fs::create_dir_all(&dir)?;
    for (k, p) in polygons(OBJECT_SEED, OBJECT_COUNT).iter().enumerate() {
        let name = format!("polygon_{k}");
        std::fs::write(dir.join(format!("{name}.obj")), extruded_obj(p, &name))?;
        println!("wrote assets/objects/{name}.obj");
    }
    Ok(())
}
