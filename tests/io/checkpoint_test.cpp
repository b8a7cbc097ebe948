// Training checkpoints on disk: the round trip of every field, the previous checkpoint kept
// beside the latest, and damaged files refused with a message naming the file and the tensor
// (or falling back to the previous checkpoint when the latest is damaged).
#include "opgraph/io/checkpoint.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "opgraph/core/error.hpp"

namespace {

namespace fs = std::filesystem;

opgraph::TrainingState sample_state(std::int64_t epoch) {
    opgraph::TrainingState s;
    s.epoch = epoch;
    s.batch = 7;
    s.iteration = 100 * epoch + 7;
    s.learning_rate = 0.0022744503;
    s.shuffle_state = "12345 67890";
    s.loss_sum = 12.5;
    s.correct = 300;
    s.seen = 448;
    s.callbacks = {{"0.best", 0.25}, {"0.wait", 2}, {"1.best", -INFINITY}};
    s.graph_hash = "0123456789abcdef";
    s.params = {{"conv/kernel", {3, 3, 1, 2}, std::vector<float>(18, 0.5f)},
                {"bn/moving_mean", {2}, {0.1f, float(epoch)}}};
    s.slots = {{"optimizer/m/conv/kernel", {3, 3, 1, 2}, std::vector<float>(18, -1.f)},
               {"optimizer/v/conv/kernel", {3, 3, 1, 2}, std::vector<float>(18, 2.f)}};
    return s;
}

class CheckpointTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("opgraph_checkpoint_test_" +
                std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
        fs::remove_all(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path latest() const { return dir_ / opgraph::kCheckpointFile; }
    fs::path previous() const { return dir_ / opgraph::kPreviousCheckpointFile; }

    // The message read_checkpoint gives for `file`, or "" when it reads.
    static std::string refusal(const fs::path& file) {
        try {
            opgraph::read_checkpoint(file);
        } catch (const opgraph::CheckpointError& e) {
            return e.what();
        }
        return "";
    }

    // Flips one byte of the data of tensor `name` in `file` (located through its header).
    static void corrupt_tensor(const fs::path& file, const std::string& name) {
        std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
        std::uint64_t header = 0;
        io.read(reinterpret_cast<char*>(&header), 8);
        std::string json(header, '\0');
        io.read(json.data(), static_cast<std::streamsize>(header));
        const auto at = json.find("\"" + name + "\"");
        ASSERT_NE(at, std::string::npos);
        const auto offsets = json.find("data_offsets\":[", at);
        const std::uint64_t begin = std::stoull(json.substr(offsets + 15));
        io.seekg(static_cast<std::streamoff>(8 + header + begin + 1));
        char byte = 0;
        io.read(&byte, 1);
        byte = static_cast<char>(byte ^ 0x40);
        io.seekp(static_cast<std::streamoff>(8 + header + begin + 1));
        io.write(&byte, 1);
    }

    fs::path dir_;
};

TEST_F(CheckpointTest, RoundTripsEveryField) {
    const opgraph::TrainingState saved = sample_state(3);
    opgraph::save_checkpoint(dir_, saved);
    const opgraph::TrainingState read = opgraph::read_checkpoint(latest());
    EXPECT_EQ(read.epoch, 3);
    EXPECT_EQ(read.batch, 7);
    EXPECT_EQ(read.iteration, 307);
    EXPECT_DOUBLE_EQ(read.learning_rate, saved.learning_rate);
    EXPECT_EQ(read.shuffle_state, saved.shuffle_state);
    EXPECT_DOUBLE_EQ(read.loss_sum, 12.5);
    EXPECT_EQ(read.correct, 300);
    EXPECT_EQ(read.seen, 448);
    EXPECT_EQ(read.callbacks.at("0.best"), 0.25);
    EXPECT_EQ(read.callbacks.at("0.wait"), 2);
    EXPECT_EQ(read.callbacks.at("1.best"), -INFINITY);
    EXPECT_EQ(read.graph_hash, saved.graph_hash);
    ASSERT_EQ(read.params.size(), 2u);
    ASSERT_EQ(read.slots.size(), 2u);
    for (const opgraph::NamedTensor& t : saved.params) {
        auto it = std::find_if(read.params.begin(), read.params.end(),
                               [&](const auto& r) { return r.name == t.name; });
        ASSERT_NE(it, read.params.end()) << t.name;
        EXPECT_EQ(it->shape, t.shape);
        EXPECT_EQ(it->data, t.data);
    }
}

TEST_F(CheckpointTest, KeepsThePreviousCheckpoint) {
    opgraph::save_checkpoint(dir_, sample_state(1));
    EXPECT_FALSE(fs::exists(previous()));
    opgraph::save_checkpoint(dir_, sample_state(2));
    EXPECT_EQ(opgraph::read_checkpoint(latest()).epoch, 2);
    EXPECT_EQ(opgraph::read_checkpoint(previous()).epoch, 1);
    opgraph::save_checkpoint(dir_, sample_state(3));
    EXPECT_EQ(opgraph::read_checkpoint(latest()).epoch, 3);
    EXPECT_EQ(opgraph::read_checkpoint(previous()).epoch, 2);
    // Only the two checkpoints remain: no temporary files or links left behind.
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++files;
    EXPECT_EQ(files, 2u);
}

TEST_F(CheckpointTest, TemporaryFilesOfAKilledSaveAreRemovedByTheNext) {
    opgraph::save_checkpoint(dir_, sample_state(1));
    // What a save killed while writing leaves (write_tensor_file's mkstemp name).
    std::ofstream(dir_ / ".checkpoint.safetensors.tmpAbC123") << "half a checkpoint";
    std::ofstream(dir_ / "notes.txt") << "the user's";
    opgraph::save_checkpoint(dir_, sample_state(2));
    EXPECT_FALSE(fs::exists(dir_ / ".checkpoint.safetensors.tmpAbC123"));
    EXPECT_TRUE(fs::exists(dir_ / "notes.txt"));
    EXPECT_EQ(opgraph::read_checkpoint(latest()).epoch, 2);
}

TEST_F(CheckpointTest, CorruptTensorIsRefusedNamingFileAndTensor) {
    opgraph::save_checkpoint(dir_, sample_state(1));
    corrupt_tensor(latest(), "optimizer/v/conv/kernel");
    const std::string message = refusal(latest());
    EXPECT_NE(message.find(latest().string()), std::string::npos) << message;
    EXPECT_NE(message.find("optimizer/v/conv/kernel"), std::string::npos) << message;
}

TEST_F(CheckpointTest, TruncatedFileIsRefusedNamingTheFile) {
    opgraph::save_checkpoint(dir_, sample_state(1));
    const auto size = fs::file_size(latest());
    for (const std::uintmax_t keep : {std::uintmax_t{0}, std::uintmax_t{5}, size / 2, size - 1}) {
        fs::resize_file(latest(), keep);
        const std::string message = refusal(latest());
        EXPECT_NE(message.find(latest().string()), std::string::npos) << keep << ": " << message;
    }
}

TEST_F(CheckpointTest, WeightsFileIsNotACheckpoint) {
    opgraph::save_checkpoint(dir_, sample_state(1));
    opgraph::TensorFile plain;
    plain.tensors = sample_state(1).params;
    opgraph::write_tensor_file(latest(), plain);
    EXPECT_NE(refusal(latest()).find("not an opgraph checkpoint"), std::string::npos);
}

TEST_F(CheckpointTest, DamagedLatestFallsBackToThePreviousWithAWarning) {
    opgraph::save_checkpoint(dir_, sample_state(1));
    opgraph::save_checkpoint(dir_, sample_state(2));
    fs::resize_file(latest(), 100);
    std::ostringstream warnings;
    const opgraph::TrainingState state = opgraph::load_latest_checkpoint(dir_, &warnings);
    EXPECT_EQ(state.epoch, 1);
    EXPECT_NE(warnings.str().find(latest().string()), std::string::npos) << warnings.str();
    EXPECT_NE(warnings.str().find(previous().string()), std::string::npos) << warnings.str();
}

TEST_F(CheckpointTest, BothDamagedGivesBothReasons) {
    opgraph::save_checkpoint(dir_, sample_state(1));
    opgraph::save_checkpoint(dir_, sample_state(2));
    fs::resize_file(latest(), 100);
    corrupt_tensor(previous(), "conv/kernel");
    try {
        opgraph::load_latest_checkpoint(dir_, nullptr);
        FAIL() << "a damaged pair was accepted";
    } catch (const opgraph::CheckpointError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(latest().string()), std::string::npos) << message;
        EXPECT_NE(message.find(previous().string()), std::string::npos) << message;
        EXPECT_NE(message.find("conv/kernel"), std::string::npos) << message;
    }
}

TEST_F(CheckpointTest, NoCheckpointToResumeFromIsNamed) {
    try {
        opgraph::load_latest_checkpoint(dir_, nullptr);
        FAIL() << "resumed from nothing";
    } catch (const opgraph::CheckpointError& e) {
        EXPECT_NE(std::string(e.what()).find("no checkpoint in " + dir_.string()),
                  std::string::npos)
            << e.what();
    }
}

TEST_F(CheckpointTest, UnwritableDirectoryIsACheckpointError) {
    fs::create_directories(dir_);
    std::ofstream(dir_ / "file") << "x";
    EXPECT_THROW(opgraph::save_checkpoint(dir_ / "file" / "sub", sample_state(1)),
                 opgraph::CheckpointError);
}

TEST(GraphHash, DependsOnStructureOnly) {
    opgraph::Graph a;
    a.inputs.push_back({"image", {28, 28, 1}, {}});
    opgraph::Graph b = a;
    EXPECT_EQ(opgraph::graph_hash(a), opgraph::graph_hash(b));
    b.inputs.front().shape = {28, 28, 3};
    EXPECT_NE(opgraph::graph_hash(a), opgraph::graph_hash(b));
    EXPECT_EQ(opgraph::graph_hash(a).size(), 16u);
}

}  // namespace
