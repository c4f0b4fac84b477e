//! Writes the polygon objects, all three sets, to
//! `assets/objects/polygon_<k>.obj`, `tandem_<k>.obj` and
//! `random_polygon_<k>.obj`.

use tactile_env::tasks::polygons::{
    OBJECT_COUNT, OBJECT_SEED, extruded_obj, polygons, random_polygons, tandem_polygons,
};

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/objects");
    std::fs::create_dir_all(&dir)?;
    let sets = [
        ("polygon", polygons(OBJECT_SEED, OBJECT_COUNT)),
        ("tandem", tandem_polygons(OBJECT_SEED, OBJECT_COUNT)),
        ("random_polygon", random_polygons(OBJECT_SEED, OBJECT_COUNT)),
    ];
    for (set, objects) in &sets {
        for (k, p) in objects.iter().enumerate() {
            let name = format!("{set}_{k}");
            let (path, text) = (dir.join(format!("{name}.obj")), extruded_obj(p, &name));
            if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
                continue; // unchanged: leave the file alone
            }
            std::fs::write(path, text)?;
            println!("wrote assets/objects/{name}.obj");
        }
    }
    Ok(())
}
