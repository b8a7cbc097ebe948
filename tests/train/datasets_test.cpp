// The dataset registry: types read from a training section's `dataset:` item (nested file
// maps included), preprocessing, classes from the data, and the checks against the model.
#include "opgraph/train/datasets.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "opgraph/core/error.hpp"
#include "opgraph/frontend/model_file.hpp"
#include "opgraph/op/session.hpp"
#include "opgraph/train/training.hpp"
#include "test_sessions.hpp"

namespace {

namespace fs = std::filesystem;

const opgraph::OpRegistry& ops() { return opgraph::testing::core_session().ops(); }

fs::path temp_dir(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() / ("opgraph_datasets_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

// An IDX file of float32 (type 0x0D) or uint8 (0x08) elements, big-endian as the format says.
void write_idx(const fs::path& file, const std::vector<std::uint32_t>& dims,
               const std::vector<float>& values, bool u8) {
    std::ofstream out(file, std::ios::binary);
    const char header[4] = {0, 0, static_cast<char>(u8 ? 0x08 : 0x0D),
                            static_cast<char>(dims.size())};
    out.write(header, 4);
    const auto big_endian = [&out](std::uint32_t v) {
        const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                               static_cast<char>(v >> 8), static_cast<char>(v)};
        out.write(bytes, 4);
    };
    for (const std::uint32_t d : dims) big_endian(d);
    for (const float v : values) {
        if (u8) {
            out.put(static_cast<char>(static_cast<std::uint8_t>(v)));
        } else {
            big_endian(std::bit_cast<std::uint32_t>(v));
        }
    }
}

// Two features per sample, class 1 where their sum is positive: a dense layer learns it.
struct Synthetic {
    std::vector<float> x, y;
};
Synthetic synthetic(int count, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    Synthetic s;
    for (int i = 0; i < count; ++i) {
        const float a = normal(rng), b = normal(rng);
        s.x.insert(s.x.end(), {a, b});
        s.y.push_back(a + b > 0 ? 1.f : 0.f);
    }
    return s;
}

std::string model_yaml(const std::string& dataset) {
    return "model:\n  inputs: {x: [2]}\n  layers:\n"
           "    - {op: dense, units: 8, activation: relu}\n"
           "    - {op: dense, units: 2}\n"
           "    - {op: softmax}\n"
           "training:\n  batch_size: 32\n  epochs: 4\n  loss: categorical_crossentropy\n"
           "  optimizer: {type: adam, learning_rate: 0.05}\n"
           "  dataset: " +
           dataset + "\n";
}

opgraph::ModelFile parse(const std::string& yaml) {
    return opgraph::parse_model(yaml, "datasets_test.yaml", ops(),
                                opgraph::testing::training_specs());
}

// The synthetic set as IDX files in `dir`: train.x/y (400 samples), test.x/y (200).
void write_synthetic_idx(const fs::path& dir) {
    const Synthetic train = synthetic(400, 1), test = synthetic(200, 2);
    write_idx(dir / "train-x.idx", {400, 2}, train.x, false);
    write_idx(dir / "train-y.idx", {400}, train.y, true);
    write_idx(dir / "test-x.idx", {200, 2}, test.x, false);
    write_idx(dir / "test-y.idx", {200}, test.y, true);
}

const std::string kIdxItem =
    "{type: idx, train: {x: train-x.idx, y: train-y.idx}, test: {x: test-x.idx, y: test-y.idx}}";

// Trains the 2-class model on the dataset `item` (files under `dir`) for 4 epochs: the last
// epoch's validation accuracy.
double trained_accuracy(const std::string& item, const fs::path& dir) {
    const opgraph::ModelFile model = parse(model_yaml(item));
    opgraph::TrainOptions options;
    options.data_root = dir;
    opgraph::Trainer trainer(model, ops(), options);
    const auto history = trainer.fit();
    EXPECT_EQ(history.size(), 4u);
    return history.back().val_accuracy;
}

TEST(Datasets, AnIdxSetFromTheTrainingSectionTrainsAModel) {
    const fs::path dir = temp_dir("idx_trains");
    write_synthetic_idx(dir);
    EXPECT_GE(trained_accuracy(kIdxItem, dir), 0.9);
}

// Runs `fn`, expecting a DataError whose message holds every one of `parts`.
template <class Fn>
void expect_data_error(Fn fn, const std::vector<std::string>& parts) {
    try {
        fn();
        FAIL() << "no DataError";
    } catch (const opgraph::DataError& e) {
        EXPECT_EQ(e.exit_code(), opgraph::ExitCode::invalid_data);
        for (const std::string& part : parts)
            EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
                << "'" << part << "' not in: " << e.what();
    }
}

// A .npy file of `shape`, float32 ('<f4') or int64 ('<i8') elements, version 1.0 header.
void write_npy(const fs::path& file, const std::vector<std::int64_t>& shape,
               const std::vector<float>& values, bool int64) {
    std::string dims;
    for (const std::int64_t d : shape) dims += std::to_string(d) + ", ";
    std::string header = std::string("{'descr': '") + (int64 ? "<i8" : "<f4") +
                         "', 'fortran_order': False, 'shape': (" + dims + "), }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::ofstream out(file, std::ios::binary);
    out.write("\x93NUMPY\x01\x00", 8);
    const auto length = static_cast<std::uint16_t>(header.size());
    out.put(static_cast<char>(length & 0xff));
    out.put(static_cast<char>(length >> 8));
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const float v : values) {
        if (int64) {
            const auto i = static_cast<std::int64_t>(v);
            out.write(reinterpret_cast<const char*>(&i), sizeof i);  // little-endian host
        } else {
            out.write(reinterpret_cast<const char*>(&v), sizeof v);
        }
    }
}

TEST(Datasets, AnNpySetFromTheTrainingSectionTrainsAModel) {
    const fs::path dir = temp_dir("npy_trains");
    const Synthetic train = synthetic(400, 3), test = synthetic(200, 4);
    write_npy(dir / "x_train.npy", {400, 2}, train.x, false);
    write_npy(dir / "y_train.npy", {400}, train.y, true);
    write_npy(dir / "x_test.npy", {200, 2}, test.x, false);
    write_npy(dir / "y_test.npy", {200}, test.y, true);
    EXPECT_GE(trained_accuracy("{type: npy, train: {x: x_train.npy, y: y_train.npy}, "
                               "test: {x: x_test.npy, y: y_test.npy}}",
                               dir),
              0.9);
    // A truncated array is refused naming the file, before training starts.
    write_npy(dir / "short.npy", {400, 2}, std::vector<float>(10, 0.f), false);
    const opgraph::ModelFile truncated =
        parse(model_yaml("{type: npy, train: {x: short.npy, y: y_train.npy}}"));
    opgraph::TrainOptions options;
    options.data_root = dir;
    expect_data_error([&] { opgraph::Trainer(truncated, ops(), options); },
                      {"short.npy", "truncated"});
}

TEST(Datasets, ClassesComeFromTheLabelsAndPreprocessingApplies) {
    const fs::path dir = temp_dir("preprocess");
    write_idx(dir / "x.idx", {3, 2, 2}, {0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, true);
    write_idx(dir / "y.idx", {3}, {0, 4, 2}, true);
    const opgraph::ModelFile model =
        parse(model_yaml("{type: idx, train: {x: x.idx, y: y.idx}, scale: 0.1, "
                         "normalize: {mean: [1], std: [2]}}"));
    const opgraph::Dataset data = opgraph::load_dataset(
        opgraph::builtin_datasets(), model.training->dataset, opgraph::Split::train, dir);
    EXPECT_EQ(data.classes, 5);
    EXPECT_EQ(data.sample_shape, (opgraph::Shape{2, 2, 1}));  // grey images: one channel
    ASSERT_EQ(data.images.size(), 12u);
    EXPECT_FLOAT_EQ(data.images[0], (0 * 0.1f - 1) / 2);
    EXPECT_FLOAT_EQ(data.images[1], (255 * 0.1f - 1) / 2);
    EXPECT_EQ(data.labels, (std::vector<std::int32_t>{0, 4, 2}));
}

TEST(Datasets, LabelsThatAreNoClassIndexNameTheFileAndTheSample) {
    const fs::path dir = temp_dir("bad_labels");
    write_idx(dir / "x.idx", {3, 2}, {1, 2, 3, 4, 5, 6}, false);
    write_idx(dir / "y.idx", {3}, {0, 1.5f, 1}, false);
    write_idx(dir / "y3.idx", {3}, {0, 1, 3}, true);
    const opgraph::DatasetRegistry registry = opgraph::builtin_datasets();
    const auto load = [&](const std::string& item) {
        const opgraph::ModelFile model = parse(model_yaml(item));
        return opgraph::load_dataset(registry, model.training->dataset, opgraph::Split::train, dir);
    };
    expect_data_error([&] { load("{type: idx, train: {x: x.idx, y: y.idx}}"); },
                      {"y.idx", "sample 1", "label 1.5", "not a class index"});
    expect_data_error([&] { load("{type: idx, train: {x: x.idx, y: y3.idx}, classes: 3}"); },
                      {"y3.idx", "sample 2", "[0, 3)"});
    expect_data_error([&] { load("{type: idx, train: {x: missing.idx, y: y.idx}}"); },
                      {"missing.idx", "not found", "train.x"});
}

TEST(Datasets, SamplesThatDoNotFitTheModelNameBothShapes) {
    const fs::path dir = temp_dir("shape_mismatch");
    write_idx(dir / "x.idx", {4, 3}, std::vector<float>(12, 1.f), false);
    write_idx(dir / "y.idx", {4}, {0, 1, 0, 1}, true);
    write_idx(dir / "test-x.idx", {2, 2}, std::vector<float>(4, 1.f), false);
    write_idx(dir / "test-y.idx", {2}, {0, 1}, true);
    const opgraph::ModelFile model =
        parse(model_yaml("{type: idx, train: {x: x.idx, y: y.idx}, test: {x: test-x.idx, y: "
                         "test-y.idx}}"));
    opgraph::TrainOptions options;
    options.data_root = dir;
    expect_data_error([&] { opgraph::Trainer(model, ops(), options); },
                      {"samples of shape (3,)", "takes (2,)", "datasets_test.yaml:2"});
    opgraph::Dataset a, b;
    a.name = "idx";
    a.sample_shape = {2};
    b.sample_shape = {3};
    expect_data_error([&] { opgraph::check_splits(a, b); },
                      {"test samples have shape (3,)", "training samples (2,)"});
}

TEST(Datasets, NestedFileMapsAreCheckedLikeAttributes) {
    try {
        parse(model_yaml("{type: idx, train: {x: a.idx, why: b.idx}}"));
        FAIL() << "read a dataset with a misspelled file key";
    } catch (const opgraph::GraphError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("train.why"), std::string::npos) << message;
        EXPECT_NE(message.find("did you mean 'train.y'"), std::string::npos) << message;
    }
}

}  // namespace
