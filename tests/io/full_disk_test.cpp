// A full disk while a checkpoint is written: the save fails with a CheckpointError naming the
// file and saying no space is left, the previous checkpoint stays complete and readable, and
// no temporary file is left behind. The disk is a small tmpfs mounted for each test (this
// needs root or CAP_SYS_ADMIN; without it the tests are skipped, saying why).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_run.hpp"
#include "opgraph/core/error.hpp"
#include "opgraph/io/checkpoint.hpp"

namespace {

namespace fs = std::filesystem;

constexpr const char* kDiskSize = "size=1m";
constexpr std::size_t kFillChunk = 4096;
// Left free after filling: the new file's first bytes fit, the rest does not.
constexpr off_t kLeftFree = 16 * 1024;
// Floats per tensor of the library tests' state: 2 tensors of 64 KiB, an eighth of the disk.
constexpr std::size_t kTensorFloats = 16 * 1024;

const std::string kData = std::string(OPGRAPH_SOURCE_DIR) + "/data";

opgraph::TrainingState sample_state(std::int64_t step) {
    opgraph::TrainingState s;
    s.epoch = 1;
    s.batch = step;
    s.iteration = step;
    s.learning_rate = 0.001;
    s.shuffle_state = "1 2";
    s.graph_hash = "0123456789abcdef";
    s.params = {{"dense/kernel", {128, 128}, std::vector<float>(kTensorFloats, 0.5f + step)}};
    s.slots = {
        {"optimizer/m/dense/kernel", {128, 128}, std::vector<float>(kTensorFloats, -1.f * step)}};
    return s;
}

// Every tensor of two states, bit for bit, and their position.
void expect_same_state(const opgraph::TrainingState& x, const opgraph::TrainingState& y) {
    EXPECT_EQ(x.iteration, y.iteration);
    EXPECT_EQ(x.epoch, y.epoch);
    EXPECT_EQ(x.batch, y.batch);
    ASSERT_EQ(x.params.size(), y.params.size());
    ASSERT_EQ(x.slots.size(), y.slots.size());
    for (std::size_t i = 0; i < x.params.size(); ++i) EXPECT_EQ(x.params[i].data, y.params[i].data);
    for (std::size_t i = 0; i < x.slots.size(); ++i) EXPECT_EQ(x.slots[i].data, y.slots[i].data);
}

class FullDisk : public ::testing::Test {
protected:
    void SetUp() override {
        mount_point_ =
            fs::temp_directory_path() /
            ("opgraph_full_disk_test_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
        ::umount2(mount_point_.c_str(), MNT_DETACH);  // left over by a crashed run
        fs::remove_all(mount_point_);
        fs::create_directories(mount_point_);
        if (::mount("tmpfs", mount_point_.c_str(), "tmpfs", 0, kDiskSize) != 0) {
            const std::string why = std::strerror(errno);
            fs::remove_all(mount_point_);
            GTEST_SKIP() << "cannot mount a tmpfs on " << mount_point_.string() << ": " << why
                         << " (needs root or CAP_SYS_ADMIN)";
        }
        mounted_ = true;
        dir_ = mount_point_ / "checkpoints";
    }

    void TearDown() override {
        if (mounted_) ::umount2(mount_point_.c_str(), MNT_DETACH);
        std::error_code ignored;
        fs::remove_all(mount_point_, ignored);
    }

    // Fills the disk with one file, then frees kLeftFree bytes of it.
    void fill_disk() {
        const fs::path filler = mount_point_ / "filler";
        const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ASSERT_GE(fd, 0) << std::strerror(errno);
        const std::array<char, kFillChunk> chunk{};
        off_t size = 0;
        for (;;) {
            const ssize_t n = ::write(fd, chunk.data(), chunk.size());
            if (n <= 0) break;
            size += n;
        }
        EXPECT_EQ(errno, ENOSPC);
        ASSERT_EQ(::ftruncate(fd, size > kLeftFree ? size - kLeftFree : 0), 0);
        ::close(fd);
    }

    // Names in the checkpoint directory other than the two checkpoints.
    std::vector<std::string> strays() const {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(dir_)) {
            const std::string name = entry.path().filename().string();
            if (name != opgraph::kCheckpointFile && name != opgraph::kPreviousCheckpointFile)
                names.push_back(name);
        }
        return names;
    }

    fs::path latest() const { return dir_ / opgraph::kCheckpointFile; }

    fs::path mount_point_, dir_;
    bool mounted_ = false;
};

TEST_F(FullDisk, SaveFailsNamingTheFileAndKeepsThePreviousCheckpoint) {
    const opgraph::TrainingState first = sample_state(1);
    opgraph::save_checkpoint(dir_, first);
    fill_disk();
    try {
        opgraph::save_checkpoint(dir_, sample_state(2));
        FAIL() << "a checkpoint was written to a full disk";
    } catch (const opgraph::CheckpointError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(latest().string()), std::string::npos) << message;
        EXPECT_NE(message.find(std::strerror(ENOSPC)), std::string::npos) << message;
        EXPECT_NE(message.find("still holds the previous checkpoint"), std::string::npos)
            << message;
    }
    expect_same_state(opgraph::read_checkpoint(latest()), first);
    expect_same_state(opgraph::read_checkpoint(dir_ / opgraph::kPreviousCheckpointFile), first);
    expect_same_state(opgraph::load_latest_checkpoint(dir_, nullptr), first);
    EXPECT_EQ(strays(), std::vector<std::string>{}) << "a temporary file was left behind";
}

TEST_F(FullDisk, SaveSucceedsAgainOnceThereIsRoom) {
    opgraph::save_checkpoint(dir_, sample_state(1));
    fill_disk();
    EXPECT_THROW(opgraph::save_checkpoint(dir_, sample_state(2)), opgraph::CheckpointError);
    fs::remove(mount_point_ / "filler");
    const opgraph::TrainingState third = sample_state(3);
    opgraph::save_checkpoint(dir_, third);
    expect_same_state(opgraph::read_checkpoint(latest()), third);
    EXPECT_EQ(strays(), std::vector<std::string>{});
}

// --- the CLI ---------------------------------------------------------------------------

// A small CNN with Adam: its checkpoint is about 80 KB.
constexpr const char* kSmallGraph =
    "model:\n"
    "  inputs: {image: [28, 28, 1]}\n"
    "  layers:\n"
    "    - {op: conv2d, filters: 4, kernel: 3}\n"
    "    - {op: batch_norm}\n"
    "    - {op: relu}\n"
    "    - {op: max_pool2d, pool: 2}\n"
    "    - {op: flatten}\n"
    "    - {op: dense, units: 10}\n"
    "    - {op: softmax}\n"
    "training:\n"
    "  dataset: mnist\n"
    "  batch_size: 32\n"
    "  epochs: 1\n"
    "  seed: 3\n"
    "  optimizer: {type: adam, learning_rate: 0.003}\n"
    "  loss: categorical_crossentropy\n"
    "  validation: none\n";

TEST_F(FullDisk, TrainingExitsFiveAndKeepsTheLastCheckpoint) {
    const fs::path graph = mount_point_ / "small.yaml";
    std::ofstream(graph) << kSmallGraph;
    const std::string train = "train " + graph.string() + " --data-dir " + kData +
                              " --train-limit 128 --threads 1 --checkpoint-dir " + dir_.string();
    const opgraph::testing::CliRun first = opgraph::testing::run_cli(train);
    ASSERT_EQ(first.code, 0) << first.output;
    const opgraph::TrainingState before = opgraph::read_checkpoint(latest());
    ASSERT_EQ(before.iteration, 4);

    fill_disk();
    const opgraph::testing::CliRun full =
        opgraph::testing::run_cli(train + " --epochs 2 --resume --checkpoint-every 1");
    EXPECT_EQ(full.code, 5) << full.output;
    EXPECT_NE(full.output.find(latest().string()), std::string::npos) << full.output;
    EXPECT_NE(full.output.find(std::strerror(ENOSPC)), std::string::npos) << full.output;
    expect_same_state(opgraph::read_checkpoint(latest()), before);
    EXPECT_EQ(strays(), std::vector<std::string>{}) << "a temporary file was left behind";
}

}  // namespace
