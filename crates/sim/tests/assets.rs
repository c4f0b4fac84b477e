//! The assets are built in: every file of the source tree's `assets/` is
//! there byte for byte, a user's folder comes first, and a missing asset
//! is one error that names it.

use std::path::Path;

use tactile_sim::{Assets, Scene, SceneDesc};

fn source_tree_files(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with("fonts") {
                source_tree_files(&path, root, out);
            }
        } else if !path.file_name().unwrap().to_string_lossy().starts_with('.') {
            // Hidden files (an editor's swap file) are not assets.
            out.push(path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"));
        }
    }
}

#[test]
fn every_asset_of_the_source_tree_is_built_in_byte_for_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets");
    let mut files = Vec::new();
    source_tree_files(&root, &root, &mut files);
    files.sort();
    let built_in: Vec<&str> = Assets::builtin_files().collect();
    assert_eq!(built_in, files);
    let assets = Assets::builtin();
    for f in &files {
        assert_eq!(&*assets.read(f).unwrap(), &std::fs::read(root.join(f)).unwrap()[..], "{f}");
    }
    assert!(files.iter().any(|f| f.starts_with("objects/")) && files.iter().any(|f| f.starts_with("sensors/")));
}

#[test]
fn a_user_folder_comes_first_and_the_built_in_files_stand_behind_it() {
    let dir = std::env::temp_dir().join(format!("tactile-assets-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("meshes")).unwrap();
    // A tetrahedron in the user's folder, under a name of its own.
    let tetra = "v 0 0 0\nv 0.01 0 0\nv 0 0.01 0\nv 0 0 0.01\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n";
    std::fs::write(dir.join("meshes/tetra.obj"), tetra).unwrap();
    let assets = Assets::new(&dir);
    assert_eq!(&*assets.read("meshes/tetra.obj").unwrap(), tetra.as_bytes());
    assert_eq!(assets.path("meshes/tetra.obj"), dir.join("meshes/tetra.obj"));
    // A built-in file the folder lacks.
    assert_eq!(assets.read("sensors/pad_8x8.toml").unwrap(), Assets::builtin().read("sensors/pad_8x8.toml").unwrap());
    let scene = |file: &str| {
        let text = format!(
            "[[bodies]]\nname = \"b\"\nkind = \"static\"\n[[bodies.colliders]]\nshape = {{ kind = \"mesh\", file = \"{file}\" }}\n"
        );
        Scene::new(&SceneDesc::from_toml(&text, "test").unwrap(), &assets)
    };
    assert!(scene("meshes/tetra.obj").is_ok());
    assert!(Scene::new(
        &SceneDesc::from_toml(
            "[[bodies]]\nname = \"b\"\nkind = \"static\"\n[[bodies.colliders]]\nshape = { kind = \"mesh\", file = \"meshes/tetra.obj\" }\n",
            "test"
        )
        .unwrap(),
        &Assets::builtin()
    )
    .is_err());
    // Missing everywhere: one error naming the file where the user would put it.
    let e = scene("meshes/nothing.obj").err().unwrap().to_string();
    assert!(e.contains(&dir.join("meshes/nothing.obj").display().to_string()), "{e}");
    let e = Assets::builtin().read("meshes/nothing.obj").unwrap_err().to_string();
    assert!(e.contains("assets/meshes/nothing.obj") && e.contains("not built in"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
    // A folder that is not there is an error, not a silent fall-back.
    let e = Assets::new("/nonexistent/assets").read("sensors/pad_8x8.toml").unwrap_err().to_string();
    assert!(e.contains("/nonexistent/assets") && e.contains("not a folder"), "{e}");
}
