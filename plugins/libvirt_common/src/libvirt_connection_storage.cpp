// Overlay volumes: the storage-API members of LibvirtConnection.
#include "libvirt_connection.hpp"

#include "host_facts.hpp"
#include "image_size.hpp"
#include "xml_reader.hpp"

#include <paddock/cpp/backend.hpp>

#include <libvirt/virterror.h>

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace paddock::lvq {

namespace {

constexpr uint64_t kTestDriverDefaultCapacity = 1ull << 30;

}  // namespace

std::string requiredArg(const char* s, const char* what) {
    if (s == nullptr || *s == '\0') throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, std::string(what) + " is required");
    return s;
}

uint64_t LibvirtConnection::backingCapacity(const pdk_volume_spec& spec) {
    if (VolHandle base{virStorageVolLookupByPath(conn_, spec.backing_path)}) {
        virStorageVolInfo info{};
        if (virStorageVolGetInfo(base.get(), &info) < 0)
            throwLastError(std::string("base volume ") + spec.backing_path);
        return info.capacity;
    }
    virResetLastError();
    if (!isLocal_) {
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, std::string("capacity_bytes is required: base image ") +
                                                       spec.backing_path +
                                                       " is not a storage volume on the remote host");
    }
    if (const auto size = localImageVirtualSize(spec.backing_path, spec.backing_format)) return *size;
    if (isTestDriver_) return kTestDriverDefaultCapacity;
    throw pdk::Error(PDK_ERR_NOT_FOUND, std::string("base image ") + spec.backing_path + " does not exist");
}

std::string LibvirtConnection::createOverlay(const pdk_volume_spec& spec, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    const std::string poolName = requiredArg(spec.pool, "pool");
    const std::string name = requiredArg(spec.name, "volume name");
    const std::string backingPath = requiredArg(spec.backing_path, "backing_path");
    const std::string backingFormat = requiredArg(spec.backing_format, "backing_format");

    PoolHandle pool(virStoragePoolLookupByName(conn_, poolName.c_str()));
    if (!pool) throwLastError("storage pool '" + poolName + "'");
    if (VolHandle existing{virStorageVolLookupByName(pool.get(), name.c_str())}) {
        throw pdk::Error(PDK_ERR_ALREADY_EXISTS, "volume '" + name + "' already exists in pool '" + poolName + "'");
    }
    virResetLastError();
    const uint64_t capacity = spec.capacity_bytes != 0 ? spec.capacity_bytes : backingCapacity(spec);
    const std::string xml = buildOverlayVolumeXml(name, capacity, backingPath, backingFormat);
    VolHandle vol(virStorageVolCreateXML(pool.get(), xml.c_str(), 0));
    if (!vol) throwLastError("cannot create volume '" + name + "' in pool '" + poolName + "'");
    std::string path = takeString(virStorageVolGetPath(vol.get()));
    if (path.empty()) throwLastError("cannot read the path of volume '" + name + "'");
    return path;
}

void LibvirtConnection::deleteVolume(const char* path, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    VolHandle vol(virStorageVolLookupByPath(conn_, path));
    if (!vol) throwLastError(std::string("volume ") + path);
    if (virStorageVolDelete(vol.get(), 0) < 0) throwLastError(std::string("cannot delete volume ") + path);
}

std::string LibvirtConnection::volumePath(const char* pool, const char* name, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    const std::string poolName = requiredArg(pool, "pool");
    const std::string volume = requiredArg(name, "volume name");
    if (volume.find('/') != std::string::npos || volume == "." || volume == "..")
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "volume name '" + volume + "' is not a plain file name");
    PoolHandle handle(virStoragePoolLookupByName(conn_, poolName.c_str()));
    if (!handle) throwLastError("storage pool '" + poolName + "'");
    if (VolHandle existing{virStorageVolLookupByName(handle.get(), volume.c_str())}) {
        throw pdk::Error(PDK_ERR_ALREADY_EXISTS, "volume '" + volume + "' already exists in pool '" + poolName + "'");
    }
    virResetLastError();
    const std::string xml = takeString(virStoragePoolGetXMLDesc(handle.get(), 0));
    if (xml.empty()) throwLastError("cannot read the definition of storage pool '" + poolName + "'");
    return volumePathInPool(xml, poolName, volume);
}

void LibvirtConnection::volumeInfo(const char* path, uint32_t flags, pdk_volume_info& out) {
    pdk::checkFlags(flags, 0);
    const std::string file = requiredArg(path, "path");
    if (file.front() != '/') throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "path '" + file + "' is not absolute");
    if (VolHandle vol{virStorageVolLookupByPath(conn_, file.c_str())}) {
        virStorageVolInfo info{};
        if (virStorageVolGetInfo(vol.get(), &info) < 0) throwLastError("volume " + file);
        out.in_pool = 1;
        out.capacity_bytes = info.capacity;
        if (PoolHandle pool{virStoragePoolLookupByVolume(vol.get())}) {
            if (const char* name = virStoragePoolGetName(pool.get())) std::snprintf(out.pool, sizeof out.pool, "%s", name);
        }
        virResetLastError();
        const std::string xml = takeString(virStorageVolGetXMLDesc(vol.get(), 0));
        std::snprintf(out.format, sizeof out.format, "%s", volumeFormatOf(xml).c_str());
        virResetLastError();
        return;
    }
    virResetLastError();
    describeUnpooledFile(file, isLocal_, out);
    const auto size = localImageVirtualSize(file, out.format);
    out.capacity_bytes = size.value_or(0);
}

}  // namespace paddock::lvq
